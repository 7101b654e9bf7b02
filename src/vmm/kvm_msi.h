/*
 * One function's MSI or MSI-X vectors on KVM: each vector an eventfd bound
 * to its own GSI by an irqfd while it is unmasked. A masked vector's
 * eventfd keeps counting; that count is its pending bit, and KVM delivers
 * it when the irqfd is bound again.
 */
#ifndef VMM_KVM_MSI_H
#define VMM_KVM_MSI_H

#include <stdbool.h>

#include "hw/msi.h"
#include "vmm/kvm.h"

struct kvm_msi_vector {
	int efd;
	int gsi;
	bool bound;			/* irqfd assigned */
	bool routed;
	struct msi_msg msg;		/* what the route says */
};

struct kvm_msi {
	struct kvm *kvm;
	const char *name;		/* for messages */
	unsigned int nr;
	struct kvm_msi_vector *v;
};

extern const struct msi_ops kvm_msi_ops;

/* nr vectors, all masked; 0 or a negative errno. */
int kvm_msi_create(struct kvm_msi *m, struct kvm *kvm, unsigned int nr, const char *name);
void kvm_msi_destroy(struct kvm_msi *m);

static inline struct msi_port kvm_msi_port(struct kvm_msi *m)
{
	return (struct msi_port){ .ops = &kvm_msi_ops, .opaque = m };
}

#endif
