/* vCPU threads: the KVM_RUN loop and its userspace exits. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL	SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signal_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vcpu *v, struct vm *vm, unsigned int id, char *err,
		size_t errlen)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return ret;
	}
	v->run = mmap(NULL, vm->kvm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		v->run = NULL;
		snprintf(err, errlen, "vCPU %u: mmap of kvm_run: %s", id, strerror(errno));
		close(v->fd);
		v->fd = -1;
		return ret;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->vm->kvm.run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

/* Port I/O: 'count' accesses of 'size' bytes each (rep ins/outs). */
static void vcpu_exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;
	uint64_t val;

	v->stats.io++;
	if (size != 1 && size != 2 && size != 4)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			val = 0;
			memcpy(&val, data, size);
			io_bus_write(&v->vm->bus, IO_SPACE_PIO, run->io.port, size, val);
		} else {
			io_bus_read(&v->vm->bus, IO_SPACE_PIO, run->io.port, size, &val);
			memcpy(data, &val, size);
		}
	}
}

static void vcpu_exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;
	uint64_t val = 0;

	v->stats.mmio++;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		io_bus_write(&v->vm->bus, IO_SPACE_MMIO, run->mmio.phys_addr, len, val);
	} else {
		io_bus_read(&v->vm->bus, IO_SPACE_MMIO, run->mmio.phys_addr, len, &val);
		memcpy(run->mmio.data, &val, len);
	}
}

/* Writes KVM held back in the coalesced ring, in order, before this exit. */
static void vcpu_replay_coalesced(struct vcpu *v)
{
	struct kvm_coalesced_mmio_ring *ring = v->vm->coalesced;
	const uint32_t max = (uint32_t)((getpagesize() - sizeof(*ring)) /
					sizeof(ring->coalesced_mmio[0]));

	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
			     __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&v->vm->coalesced_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first % max];
		uint64_t val = 0;

		if (e->len <= sizeof(val)) {
			memcpy(&val, e->data, e->len);
			io_bus_write(&v->vm->bus, e->pio ? IO_SPACE_PIO : IO_SPACE_MMIO,
				     e->phys_addr, e->len, val);
		}
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&v->vm->coalesced_lock);
}

void vcpu_log_state(struct vcpu *v, int level)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return;
	log_msg((enum log_level)level, "vCPU %u: rip %#llx rsp %#llx rflags %#llx cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx",
	       v->id, (unsigned long long)r.rip, (unsigned long long)r.rsp,
	       (unsigned long long)r.rflags, (unsigned long long)s.cr0,
	       (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	       (unsigned long long)s.efer);
}

static void vcpu_exit_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, VM_STOP_RESET);
		break;
	default:
		pr_warn("vCPU %u: system event %u: treated as a crash", v->id,
			v->run->system_event.type);
		vm_request_stop(v->vm, VM_STOP_RESET);
		break;
	}
}

/* One exit; false when the vCPU cannot go on. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	vcpu_replay_coalesced(v);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_exit_io(v);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_exit_mmio(v);
		return true;
	case KVM_EXIT_SHUTDOWN:
		/*
		 * A triple fault: a PC resets. Linux's last way to reboot, but
		 * mostly a crash, so said at the default verbosity.
		 */
		pr_warn("vCPU %u: triple fault (a crash, or the guest's last way to reboot): a reset",
			v->id);
		vcpu_log_state(v, LOG_INFO);
		v->stats.other++;
		vm_request_stop(v->vm, VM_STOP_RESET);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		v->stats.other++;
		vcpu_exit_system_event(v);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason %#llx", v->id,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %u: KVM internal error, suberror %u", v->id,
		       run->internal.suberror);
		break;
	default:
		pr_err("vCPU %u: unexpected KVM exit reason %u", v->id, run->exit_reason);
		break;
	}
	v->stats.other++;
	vcpu_log_state(v, LOG_ERROR);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!vm_stopping(v->vm)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			pr_err("vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			vm_request_stop(v->vm, VM_STOP_ERROR);
			break;
		}
		if (!vcpu_handle_exit(v)) {
			vm_request_stop(v->vm, VM_STOP_ERROR);
			break;
		}
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int ret = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (ret)
		return -ret;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->started)
		return;
	pthread_join(v->thread, NULL);
	v->started = false;
}
