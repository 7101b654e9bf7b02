/*
 * One thread per vCPU: KVM_RUN, and every exit that reaches userspace
 * dispatched to the trap registry or turned into a stop request.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

struct vcpu_stats {
	uint64_t io;			/* port I/O exits */
	uint64_t mmio;			/* MMIO exits */
	uint64_t other;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	struct vcpu_stats stats;
};

/* KVM_CREATE_VCPU and the kvm_run mapping; 0 or a negative errno. */
int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id,
		char *err, size_t errlen);
void vcpu_destroy(struct vcpu *v);

/* Start the vCPU's thread; 0 or a negative errno. */
int vcpu_start(struct vcpu *v);
/* Make KVM_RUN return at once, now and on its next entry. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);

/* Log the vCPU's RIP, RSP, RFLAGS and control registers at 'level'. */
void vcpu_log_state(struct vcpu *v, int level);

/* Install the no-op signal handler that vcpu_kick() relies on; once per process. */
int vcpu_signal_init(void);

#endif
