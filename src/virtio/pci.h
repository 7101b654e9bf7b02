/*
 * The modern virtio-pci transport (VIRTIO 1.2, 4.1): a function with the
 * virtio vendor capabilities pointing into one BAR (common config, ISR,
 * device config, notify doorbells) and MSI-X in the same BAR. Doorbells
 * become ioeventfds where the platform offers them, so the driver's kicks
 * reach the device thread without the VMM; interrupts leave through the
 * MSI-X vectors (irqfds), or INTx with the ISR when MSI-X is off.
 */
#ifndef VMM_VIRTIO_PCI_H
#define VMM_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/io.h"
#include "hw/irq.h"
#include "hw/msi.h"
#include "pci/endpoint.h"
#include "pci/msix.h"
#include "virtio/device.h"

#define VIRTIO_PCI_NO_VECTOR	0xffff

/* What the transport asks of the platform beyond traps and interrupts. */
struct virtio_pci_platform {
	/*
	 * Signal fd, with no exit, when the guest writes [addr, addr + 4) of
	 * MMIO; or stop (assign false). 0 or a negative errno: without it the
	 * doorbell traps and the transport signals fd itself.
	 */
	int (*ioeventfd)(void *opaque, uint64_t addr, int fd, bool assign);
	void *opaque;
};

struct virtio_pci_queue {
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, avail, used;
	int kick_fd;			/* eventfd the doorbell signals */
	bool ioeventfd;			/* kick_fd is hooked to the doorbell in KVM */
};

struct virtio_pci {
	struct virtio_device *dev;
	const struct pci_func *func;
	struct pci_endpoint ep;
	struct msix msix;
	struct io_bus *bus;
	struct irq_line intx;
	struct msi_port msi;
	struct virtio_pci_platform plat;
	uint64_t bar_addr;		/* where BAR 0 decodes */
	bool bar_on;
	struct virtio_pci_queue *q;	/* [dev->nr_queues] */
	unsigned int pci_cfg_cap;	/* offset of the PCI config access capability */

	/* Common configuration, guarded by dev->lock. */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint16_t config_vector;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	/* Counters: doorbells that trapped, interrupts sent, ISR reads (INTx only). */
	uint64_t kicks, interrupts, isr_reads;
	uint64_t used_before;		/* buffers used by queues since reset */
	void *kick_ctx;			/* what the device loop hands back on a kick */
};

/*
 * Put device d (initialised by its model) on PCI function f: config space,
 * BAR traps on bus, queue doorbells, MSI-X vectors through msi, INTx
 * through intx (may be NULL). Starts the device thread. 0 or a negative
 * errno with a message in err.
 */
int virtio_pci_create(struct virtio_pci *vp, struct virtio_device *d,
		      const struct pci_func *f, const struct guest_mem *mem,
		      struct io_bus *bus, const struct msi_port *msi,
		      const struct irq_line *intx, const struct virtio_pci_platform *plat,
		      char *err, size_t errlen);
/* Buffers the device has returned to the driver since it was created (lock taken). */
uint64_t virtio_pci_used(struct virtio_pci *vp);
/* Stop the device thread, reset the device and drop the traps. */
void virtio_pci_destroy(struct virtio_pci *vp);

#endif
