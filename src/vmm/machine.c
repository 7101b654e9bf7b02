/* A machine's life: create from the plan, run until stopped, tear down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "vmm/machine.h"

int machine_check_devices(const struct vm_plan *plan, char *err, size_t errlen)
{
	const struct vm_config *cfg = plan->cfg;

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		int ret;

		if (cfg->devices[i].kind != DEV_VFIO)
			continue;
		ret = machine_vfio_check(plan, i, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int machine_create(struct machine *m, const struct vm_plan *plan,
		   const struct boot_files *files, struct event_loop *el,
		   struct console *consoles, char *err, size_t errlen)
{
	const struct vm_config *cfg = plan->cfg;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);

	memset(m, 0, sizeof(*m));
	m->plan = plan;
	m->files = files;
	m->el = el;
	m->consoles = consoles;
	m->vm.kvm.sys_fd = m->vm.kvm.vm_fd = -1;
	m->vm.mem.fd = -1;
	m->vm.stop_fd = -1;
	pthread_mutex_init(&m->vm.stop_lock, NULL);
	pthread_mutex_init(&m->vm.coalesced_lock, NULL);
	io_bus_init(&m->vm.bus);

	m->vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->vm.stop_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	ret = kvm_create_vm(&m->vm.kvm, NULL, cfg->machine.cpus, err, errlen);
	if (ret)
		goto fail;
	irq_lines_init(&m->irqs, &m->vm.kvm);
	ret = vm_memory_create(&m->vm.mem, &m->vm.kvm, &plan->layout,
			       cfg->machine.hugepages, err, errlen);
	if (ret)
		goto fail;
	ret = machine_devices_create(m, err, errlen);
	if (ret)
		goto fail;
	m->vm.vcpus = calloc(cfg->machine.cpus, sizeof(*m->vm.vcpus));
	if (!m->vm.vcpus) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < cfg->machine.cpus; i++) {
		ret = vcpu_create(&m->vm.vcpus[i], &m->vm, i, err, errlen);
		if (ret)
			goto fail;
		m->vm.nr_vcpus++;
	}
	if (m->vm.kvm.coalesced_page)
		m->vm.coalesced = (void *)((uint8_t *)m->vm.vcpus[0].run +
					   (size_t)m->vm.kvm.coalesced_page * getpagesize());
	ret = machine_boot_prepare(m, err, errlen);
	if (ret)
		goto fail;
	pr_info("machine ready in %.3f s: %u vCPUs, %llu MiB, kernel loaded", clock_seconds_since(&t0),
		m->vm.nr_vcpus, (unsigned long long)(m->vm.mem.size >> 20));
	return 0;
fail:
	machine_destroy(m);
	return ret;
}

static void machine_stop_event(void *opaque, uint32_t events)
{
	struct machine *m = opaque;

	(void)events;
	event_loop_quit(m->el);
}

void machine_stop_on_signal(struct machine *m, int signo)
{
	pthread_mutex_lock(&m->vm.stop_lock);
	if (m->vm.stop == VM_RUNNING)
		m->vm.stop_signal = signo;
	pthread_mutex_unlock(&m->vm.stop_lock);
	vm_request_stop(&m->vm, VM_STOP_SIGNAL);
}

enum vm_stop_reason machine_run(struct machine *m)
{
	unsigned int i;

	if (event_loop_add(m->el, m->vm.stop_fd, EPOLLIN, machine_stop_event, m) < 0) {
		pr_err("event loop: %m");
		return VM_STOP_ERROR;
	}
	m->stop_watched = true;
	for (i = 0; i < m->vm.nr_vcpus; i++) {
		int ret = vcpu_start(&m->vm.vcpus[i]);

		if (ret) {
			pr_err("vCPU %u: cannot start its thread: %s", i, strerror(-ret));
			vm_request_stop(&m->vm, VM_STOP_ERROR);
			break;
		}
	}
	if (!vm_stopping(&m->vm) && event_loop_run(m->el) < 0)
		vm_request_stop(&m->vm, VM_STOP_ERROR);

	for (i = 0; i < m->vm.nr_vcpus; i++)
		vcpu_kick(&m->vm.vcpus[i]);
	for (i = 0; i < m->vm.nr_vcpus; i++)
		vcpu_join(&m->vm.vcpus[i]);
	for (i = 0; i < m->vm.nr_vcpus; i++) {
		const struct vcpu_stats *s = &m->vm.vcpus[i].stats;

		pr_info("vCPU %u: %llu port I/O exits, %llu MMIO exits, %llu other", i,
			(unsigned long long)s->io, (unsigned long long)s->mmio,
			(unsigned long long)s->other);
		/* Where a guest stopped from outside was: a hung guest's last state. */
		if (m->vm.stop == VM_STOP_SIGNAL)
			vcpu_log_state(&m->vm.vcpus[i], LOG_INFO);
	}
	machine_virtio_stats(m);
	machine_vfio_stats(m);
	return m->vm.stop;
}

void machine_destroy(struct machine *m)
{
	if (m->stop_watched)
		event_loop_del(m->el, m->vm.stop_fd);
	m->stop_watched = false;
	for (unsigned int i = 0; i < m->vm.nr_vcpus; i++)
		vcpu_destroy(&m->vm.vcpus[i]);
	free(m->vm.vcpus);
	m->vm.vcpus = NULL;
	m->vm.nr_vcpus = 0;
	machine_devices_destroy(m);
	vm_memory_destroy(&m->vm.mem);
	if (m->irqs.kvm)
		irq_lines_free(&m->irqs);
	kvm_destroy_vm(&m->vm.kvm);
	if (m->vm.stop_fd >= 0)
		close(m->vm.stop_fd);
	m->vm.stop_fd = -1;
	io_bus_free(&m->vm.bus);
	pthread_mutex_destroy(&m->vm.stop_lock);
	pthread_mutex_destroy(&m->vm.coalesced_lock);
}
