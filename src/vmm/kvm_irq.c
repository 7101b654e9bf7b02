/*
 * KVM's interrupt plumbing: the GSI routing table (the PC's wiring and one
 * route per MSI vector), irqfds and ioeventfds, so that device interrupts
 * and queue notifications bypass the VMM's threads.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/kvm.h"

#define KVM_PC_GSIS	24
#define KVM_MAX_ROUTES	4096

static int commit(struct kvm *kvm)
{
	size_t size = sizeof(struct kvm_irq_routing) +
		      kvm->nr_routes * sizeof(struct kvm_irq_routing_entry);
	struct kvm_irq_routing *r = calloc(1, size);
	int ret = 0;

	if (!r)
		return -ENOMEM;
	r->nr = kvm->nr_routes;
	memcpy(r->entries, kvm->routes, kvm->nr_routes * sizeof(*kvm->routes));
	if (ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

static struct kvm_irq_routing_entry *new_route(struct kvm *kvm)
{
	if (kvm->nr_routes == kvm->cap_routes) {
		unsigned int cap = kvm->cap_routes ? kvm->cap_routes * 2 : 64;
		void *p;

		if (cap > KVM_MAX_ROUTES)
			return NULL;
		p = realloc(kvm->routes, cap * sizeof(*kvm->routes));
		if (!p)
			return NULL;
		kvm->routes = p;
		kvm->cap_routes = cap;
	}
	memset(&kvm->routes[kvm->nr_routes], 0, sizeof(*kvm->routes));
	return &kvm->routes[kvm->nr_routes++];
}

/*
 * The PC's interrupt wiring, as the MADT describes it: ISA IRQs 0-15 reach
 * the PIC pins and the IOAPIC pins of the same number, except IRQ 0 (the
 * PIT), which reaches IOAPIC pin 2 (the MADT's interrupt source override);
 * GSIs 16-23 reach only the IOAPIC. KVM's default table sends IRQ 0 to pin 0.
 */
int kvm_routes_init(struct kvm *kvm)
{
	struct kvm_irq_routing_entry *e;

	kvm->nr_routes = 0;
	kvm->next_msi_gsi = KVM_PC_GSIS;
	for (unsigned int gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;	/* the cascade */
		e = new_route(kvm);
		if (!e)
			return -ENOMEM;
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi % 8;
	}
	for (unsigned int gsi = 0; gsi < KVM_PC_GSIS; gsi++) {
		if (gsi == 2)
			continue;
		e = new_route(kvm);
		if (!e)
			return -ENOMEM;
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	kvm->ioeventfd_any_len =
		ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	kvm->irqfd_resample = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE) > 0;
	return commit(kvm);
}

void kvm_routes_free(struct kvm *kvm)
{
	free(kvm->routes);
	kvm->routes = NULL;
	kvm->nr_routes = kvm->cap_routes = 0;
}

int kvm_msi_route_add(struct kvm *kvm)
{
	int gsi;

	pthread_mutex_lock(&kvm->route_lock);
	if (kvm->next_msi_gsi >= KVM_MAX_ROUTES)
		gsi = -ENOSPC;
	else
		gsi = (int)kvm->next_msi_gsi++;
	pthread_mutex_unlock(&kvm->route_lock);
	return gsi;
}

int kvm_msi_route_set(struct kvm *kvm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e = NULL;
	int ret;

	pthread_mutex_lock(&kvm->route_lock);
	for (unsigned int i = 0; i < kvm->nr_routes; i++) {
		if (kvm->routes[i].gsi == gsi && kvm->routes[i].type == KVM_IRQ_ROUTING_MSI) {
			e = &kvm->routes[i];
			break;
		}
	}
	if (!e) {
		e = new_route(kvm);
		if (!e) {
			pthread_mutex_unlock(&kvm->route_lock);
			return -ENOSPC;
		}
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_MSI;
	}
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	ret = commit(kvm);
	pthread_mutex_unlock(&kvm->route_lock);
	return ret;
}

int kvm_irqfd(struct kvm *kvm, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(kvm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_irqfd_resample(struct kvm *kvm, int fd, int resample_fd, unsigned int gsi,
		       bool assign)
{
	struct kvm_irqfd f = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN,
		.resamplefd = assign ? (uint32_t)resample_fd : 0,
	};

	if (assign && !kvm->irqfd_resample)
		return -ENOTSUP;
	return ioctl(kvm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_ioeventfd(struct kvm *kvm, uint64_t addr, unsigned int len, int fd, bool pio,
		  bool assign)
{
	struct kvm_ioeventfd e = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (!len && (pio || !kvm->ioeventfd_any_len))
		return -EINVAL;
	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}
