/*
 * A running machine: the KVM VM, its RAM, the trap registry, the vCPUs and
 * the device models realised from the plan, and why it stops.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>

#include "hw/io.h"
#include "vmm/kvm.h"
#include "vmm/memory.h"
#include "vmm/vcpu.h"

struct kvm_coalesced_mmio_ring;

enum vm_stop_reason {
	VM_RUNNING,
	VM_STOP_POWEROFF,		/* ACPI S5 from the guest */
	VM_STOP_RESET,			/* keyboard controller, port 0x92, triple fault */
	VM_STOP_SIGNAL,			/* SIGINT, SIGTERM, SIGHUP, or the console escape */
	VM_STOP_ERROR,			/* a vCPU could not go on */
};

struct vm {
	struct kvm kvm;
	struct vm_memory mem;
	struct io_bus bus;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;

	/* KVM's coalesced write ring (one per VM), replayed before each exit. */
	struct kvm_coalesced_mmio_ring *coalesced;
	pthread_mutex_t coalesced_lock;

	pthread_mutex_t stop_lock;
	enum vm_stop_reason stop;	/* the first request wins */
	int stop_signal;		/* VM_STOP_SIGNAL: which */
	int stop_fd;			/* eventfd: written on the first stop request */
};

/* Ask the machine to stop; the first reason given is kept. Any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why);
bool vm_stopping(struct vm *vm);
const char *vm_stop_reason_name(enum vm_stop_reason why);

#endif
