/*
 * KVM memslot numbers (taken, freed, reused, exhausted) and the resample
 * irqfd, against a recording ioctl() (linked with --wrap=ioctl): no KVM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/kvm.h"

#define FAKE_VM_FD	1000

static struct {
	unsigned int calls;
	unsigned long req;
	struct kvm_userspace_memory_region mr;
	struct kvm_irqfd irqfd;
	int fail;			/* errno to fail the next call with, 0 = succeed */
} io;

int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	assert_int_equal(fd, FAKE_VM_FD);
	io.calls++;
	io.req = req;
	if (req == KVM_SET_USER_MEMORY_REGION)
		memcpy(&io.mr, arg, sizeof(io.mr));
	else if (req == KVM_IRQFD)
		memcpy(&io.irqfd, arg, sizeof(io.irqfd));
	if (io.fail) {
		errno = io.fail;
		io.fail = 0;
		return -1;
	}
	return 0;
}

static struct kvm vm;

static int setup(void **state)
{
	(void)state;
	memset(&io, 0, sizeof(io));
	memset(&vm, 0, sizeof(vm));
	vm.sys_fd = vm.vm_fd = FAKE_VM_FD;
	vm.max_slots = 4;
	pthread_mutex_init(&vm.slot_lock, NULL);
	return 0;
}

static void test_slots_lowest_free_first(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(kvm_set_memslot(&vm, 0x1000, 0x2000, buf, false), 0);
	assert_int_equal(io.mr.slot, 0);
	assert_int_equal(io.mr.guest_phys_addr, 0x1000);
	assert_int_equal(io.mr.memory_size, 0x2000);
	assert_ptr_equal((void *)(uintptr_t)io.mr.userspace_addr, buf);
	assert_int_equal(io.mr.flags, 0);
	assert_int_equal(kvm_set_memslot(&vm, 0x4000, 0x1000, buf, true), 1);
	assert_int_equal(io.mr.flags, KVM_MEM_READONLY);
	assert_int_equal(kvm_set_memslot(&vm, 0x8000, 0x1000, buf, false), 2);
	assert_int_equal(vm.nr_slots, 3);

	/* A BAR moving: its slot goes (size 0), and the number is the next one given. */
	assert_int_equal(kvm_del_memslot(&vm, 1), 0);
	assert_int_equal(io.req, KVM_SET_USER_MEMORY_REGION);
	assert_int_equal(io.mr.slot, 1);
	assert_int_equal(io.mr.memory_size, 0);
	assert_int_equal(vm.nr_slots, 2);
	assert_int_equal(kvm_set_memslot(&vm, 0xc0000000, 0x1000, buf, false), 1);
	assert_int_equal(io.mr.guest_phys_addr, 0xc0000000);
	assert_int_equal(kvm_set_memslot(&vm, 0xd0000000, 0x1000, buf, false), 3);
	assert_int_equal(vm.nr_slots, 4);
}

static void test_slots_run_out(void **state)
{
	char buf[64], err[128] = "";
	unsigned int calls;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(kvm_set_memslot(&vm, 0x1000ULL * (i + 1), 0x1000, buf, false), i);
	calls = io.calls;
	assert_int_equal(kvm_set_memslot(&vm, 0x10000, 0x1000, buf, false), -ENOSPC);
	assert_int_equal(io.calls, calls);
	assert_int_equal(kvm_add_memslot(&vm, 0x10000, 0x1000, buf, err, sizeof(err)), -ENOSPC);
	assert_string_equal(err, "out of KVM memslots (4)");
	assert_int_equal(kvm_del_memslot(&vm, 2), 0);
	assert_int_equal(kvm_add_memslot(&vm, 0x10000, 0x1000, buf, err, sizeof(err)), 0);
	assert_int_equal(io.mr.slot, 2);
}

static void test_refused_slot_is_freed(void **state)
{
	char buf[64], err[128] = "";

	(void)state;
	io.fail = EEXIST;
	assert_int_equal(kvm_add_memslot(&vm, 0x1000, 0x1000, buf, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "[0x1000-0x1fff]"));
	assert_int_equal(vm.nr_slots, 0);
	assert_int_equal(kvm_set_memslot(&vm, 0x1000, 0x1000, buf, false), 0);

	/* A delete KVM refuses keeps the number taken. */
	io.fail = EINVAL;
	assert_int_equal(kvm_del_memslot(&vm, 0), -EINVAL);
	assert_int_equal(vm.nr_slots, 1);
	assert_int_equal(kvm_set_memslot(&vm, 0x2000, 0x1000, buf, false), 1);
}

static void test_bad_arguments(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(kvm_set_memslot(&vm, 0x1000, 0, buf, false), -EINVAL);
	assert_int_equal(kvm_del_memslot(&vm, -1), -EINVAL);
	assert_int_equal(kvm_del_memslot(&vm, 4), -EINVAL);
	assert_int_equal(io.calls, 0);
	assert_int_equal(vm.nr_slots, 0);
}

static void test_irqfd_resample(void **state)
{
	(void)state;
	assert_int_equal(kvm_irqfd_resample(&vm, 7, 8, 17, true), -ENOTSUP);
	assert_int_equal(io.calls, 0);

	vm.irqfd_resample = true;
	assert_int_equal(kvm_irqfd_resample(&vm, 7, 8, 17, true), 0);
	assert_int_equal(io.req, KVM_IRQFD);
	assert_int_equal(io.irqfd.fd, 7);
	assert_int_equal(io.irqfd.resamplefd, 8);
	assert_int_equal(io.irqfd.gsi, 17);
	assert_int_equal(io.irqfd.flags, KVM_IRQFD_FLAG_RESAMPLE);

	assert_int_equal(kvm_irqfd_resample(&vm, 7, -1, 17, false), 0);
	assert_int_equal(io.irqfd.flags, KVM_IRQFD_FLAG_DEASSIGN);
	assert_int_equal(io.irqfd.fd, 7);
	assert_int_equal(io.irqfd.gsi, 17);

	io.fail = EBUSY;
	assert_int_equal(kvm_irqfd_resample(&vm, 7, 8, 17, true), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_slots_lowest_free_first, setup),
		cmocka_unit_test_setup(test_slots_run_out, setup),
		cmocka_unit_test_setup(test_refused_slot_is_freed, setup),
		cmocka_unit_test_setup(test_bad_arguments, setup),
		cmocka_unit_test_setup(test_irqfd_resample, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
