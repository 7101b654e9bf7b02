/*
 * Message-signalled interrupts as a device model sees them: a vector is an
 * address/data message that the platform delivers. Behind it is KVM's GSI
 * routing with an irqfd per vector, or a test's recorder. The MSI and MSI-X
 * emulation (src/pci) tells the platform what each vector now is; devices
 * fire vectors by number.
 */
#ifndef VMM_HW_MSI_H
#define VMM_HW_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct msi_msg {
	uint64_t addr;
	uint32_t data;
};

struct msi_ops {
	/*
	 * Vector vec now sends msg, or is masked (by its own mask bit, the
	 * function mask, or the capability being disabled). A masked vector
	 * that fires is remembered as pending and delivered once unmasked.
	 * 0 or a negative errno (the vector then stays silent).
	 */
	int (*update)(void *opaque, unsigned int vec, const struct msi_msg *msg, bool masked);
	/* Whether a masked vector has fired since it was masked (PBA bit). */
	bool (*pending)(void *opaque, unsigned int vec);
	/* Fire vec: from device threads, without a VMM hop where possible. */
	void (*fire)(void *opaque, unsigned int vec);
	/*
	 * The eventfd that fires vec when written (for VFIO, which hands it to
	 * the kernel), or -1 when the platform has none.
	 */
	int (*eventfd)(void *opaque, unsigned int vec);
};

/* One function's vectors on the platform. */
struct msi_port {
	const struct msi_ops *ops;
	void *opaque;
};

static inline void msi_fire(const struct msi_port *p, unsigned int vec)
{
	if (p && p->ops && p->ops->fire)
		p->ops->fire(p->opaque, vec);
}

#endif
