/* Stop requests: the first reason wins and wakes the event loop. */
#include <stdint.h>
#include <unistd.h>

#include "vmm/vm.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason why)
{
	uint64_t one = 1;
	bool first;

	pthread_mutex_lock(&vm->stop_lock);
	first = vm->stop == VM_RUNNING;
	if (first)
		__atomic_store_n(&vm->stop, why, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->stop_lock);
	if (first && write(vm->stop_fd, &one, sizeof(one)) < 0) {
		/* The eventfd counter cannot overflow from one write; nothing to do. */
	}
}

bool vm_stopping(struct vm *vm)
{
	/* Read on every exit of every vCPU: no lock, just an atomic load. */
	return __atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

const char *vm_stop_reason_name(enum vm_stop_reason why)
{
	switch (why) {
	case VM_RUNNING:
		return "running";
	case VM_STOP_POWEROFF:
		return "powered off";
	case VM_STOP_RESET:
		return "reset";
	case VM_STOP_SIGNAL:
		return "stopped by a signal";
	case VM_STOP_ERROR:
		return "stopped on an error";
	}
	return "?";
}
