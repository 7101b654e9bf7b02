/*
 * The KVM system and VM file descriptors: opening /dev/kvm with the checks
 * a VMM needs (API version, capabilities, vCPU limit), creating the VM with
 * the in-kernel irqchip and PIT, memslots and interrupt lines.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_irq_routing_entry;

/* Memslot numbers the VMM hands out: RAM ranges, passthrough BAR areas. */
#define KVM_SLOT_MAP_SIZE	512

struct kvm {
	int sys_fd;			/* /dev/kvm */
	int vm_fd;
	size_t run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	unsigned int max_vcpus;
	unsigned int nr_slots;		/* memslots in use */
	unsigned int max_slots;		/* what KVM allows, capped at KVM_SLOT_MAP_SIZE */
	pthread_mutex_t slot_lock;	/* slot_used: BARs move from any vCPU thread */
	uint64_t slot_used[KVM_SLOT_MAP_SIZE / 64];
	unsigned int coalesced_page;	/* page offset of the ring in a vCPU mapping, 0 = none */

	/* The GSI routing table: the PC's wiring, then one entry per MSI vector. */
	pthread_mutex_t route_lock;
	struct kvm_irq_routing_entry *routes;
	unsigned int nr_routes, cap_routes;
	unsigned int next_msi_gsi;
	bool ioeventfd_any_len;		/* KVM_CAP_IOEVENTFD_ANY_LENGTH */
	bool irqfd_resample;		/* KVM_CAP_IRQFD_RESAMPLE */
};

/*
 * Open /dev/kvm (path NULL: the default), check what the VMM relies on and
 * create a VM for ncpus vCPUs with the in-kernel PIC, IOAPIC, LAPICs and
 * PIT. On failure returns a negative errno with a message, naming the fix,
 * in err; nothing is left open.
 */
int kvm_create_vm(struct kvm *kvm, const char *path, unsigned int ncpus,
		  char *err, size_t errlen);
void kvm_destroy_vm(struct kvm *kvm);

/* Map [hva, hva + size) at guest physical gpa; 0 or a negative errno. */
int kvm_add_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva,
		    char *err, size_t errlen);
/*
 * The same in a free slot, for memory that comes and goes while vCPUs run
 * (a passthrough BAR the guest moves): the slot number, or a negative errno
 * (-ENOSPC when every slot is taken). Any thread.
 */
int kvm_set_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva, bool readonly);
/* Take slot out of the guest and free its number; 0 or a negative errno. */
int kvm_del_memslot(struct kvm *kvm, int slot);

/*
 * Let writes to [addr, addr + len) of port space (pio) or MMIO collect in
 * KVM's coalesced ring instead of exiting; the VMM replays them before it
 * handles the next exit. Only for registers whose writes have no effect the
 * guest can see before its next access that does exit (the CF8 address
 * latch). 0, or -ENOTSUP when KVM cannot.
 */
int kvm_coalesce(struct kvm *kvm, uint64_t addr, uint32_t len, int pio);

/* The routing table (kvm_irq.c): the PC's wiring at VM creation. */
int kvm_routes_init(struct kvm *kvm);
void kvm_routes_free(struct kvm *kvm);
/* A GSI for an MSI vector, not routed yet: the GSI, or a negative errno. */
int kvm_msi_route_add(struct kvm *kvm);
/* Route gsi to the message (addr, data); 0 or a negative errno. */
int kvm_msi_route_set(struct kvm *kvm, unsigned int gsi, uint64_t addr, uint32_t data);
/* Let writes to fd raise gsi in the kernel (or stop it); 0 or a negative errno. */
int kvm_irqfd(struct kvm *kvm, int fd, unsigned int gsi, bool assign);
/*
 * A level-triggered irqfd: a write to fd asserts gsi until the guest EOIs
 * it, then KVM deasserts it and signals resample_fd (a passthrough INTx:
 * VFIO unmasks the device on it). Deassign with assign false. 0, -ENOTSUP
 * without KVM_CAP_IRQFD_RESAMPLE, or a negative errno.
 */
int kvm_irqfd_resample(struct kvm *kvm, int fd, int resample_fd, unsigned int gsi,
		       bool assign);
/*
 * Let guest writes to [addr, addr + len) of MMIO (or port space) signal fd
 * in the kernel, with no exit; len 0 matches any access width where KVM
 * can. 0 or a negative errno.
 */
int kvm_ioeventfd(struct kvm *kvm, uint64_t addr, unsigned int len, int fd, bool pio,
		  bool assign);

/* Drive an input of the in-kernel PIC/IOAPIC; 0 or a negative errno. */
int kvm_irq_line(struct kvm *kvm, unsigned int gsi, int level);

#endif
