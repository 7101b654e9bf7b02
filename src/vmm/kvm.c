/* /dev/kvm and the VM: capability checks, irqchip, PIT, memslots, IRQ lines. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm.h"

#define KVM_DEFAULT_PATH	"/dev/kvm"
/* Intel VMX needs three pages for the real-mode TSS and one for an identity
 * map, both outside RAM and MMIO: just below the BIOS ROM's 4 GiB top. */
#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "in-kernel irqchip (KVM_CAP_IRQCHIP)" },
	{ KVM_CAP_USER_MEMORY, "user memory (KVM_CAP_USER_MEMORY)" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_PIT2, "in-kernel PIT (KVM_CAP_PIT2)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
};

static int kvm_open_sys(struct kvm *kvm, const char *path, char *err,
			size_t errlen)
{
	int ret;

	kvm->sys_fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			snprintf(err, errlen,
				 "%s: no such device: KVM is not available; load kvm_intel or kvm_amd "
				 "(and enable virtualisation in the firmware)", path);
		else if (ret == -EACCES || ret == -EPERM)
			snprintf(err, errlen,
				 "%s: permission denied: add the user to the group that owns it "
				 "(usually kvm) or run as root", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, expected %d",
			 path, ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "%s: this kernel's KVM lacks %s", path,
				 kvm_required_caps[i].name);
			return -ENOTSUP;
		}
	}
	ret = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0) {
		snprintf(err, errlen, "%s: KVM_GET_VCPU_MMAP_SIZE: %s", path,
			 strerror(errno));
		return -ENOTSUP;
	}
	kvm->run_size = (size_t)ret;
	ret = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret <= 0)
		ret = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	kvm->max_vcpus = ret > 0 ? (unsigned int)ret : 4;
	ret = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	kvm->coalesced_page = ret > 0 ? (unsigned int)ret : 0;
	ret = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	kvm->max_slots = ret > 0 ? (unsigned int)ret : 32;
	if (kvm->max_slots > KVM_SLOT_MAP_SIZE)
		kvm->max_slots = KVM_SLOT_MAP_SIZE;
	return 0;
}

int kvm_create_vm(struct kvm *kvm, const char *path, unsigned int ncpus,
		  char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = 0 };
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->sys_fd = kvm->vm_fd = -1;
	pthread_mutex_init(&kvm->route_lock, NULL);
	pthread_mutex_init(&kvm->slot_lock, NULL);
	if (!path)
		path = KVM_DEFAULT_PATH;
	ret = kvm_open_sys(kvm, path, err, errlen);
	if (ret)
		goto fail;
	if (ncpus > kvm->max_vcpus) {
		snprintf(err, errlen, "%u vCPUs asked for, this host's KVM allows %u",
			 ncpus, kvm->max_vcpus);
		ret = -EINVAL;
		goto fail;
	}
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_SET_TSS_ADDR / KVM_SET_IDENTITY_MAP_ADDR: %s",
			 strerror(errno));
		goto fail;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto fail;
	}
	/* CPUID hides the PMU (x86/cpuid.c); where KVM can, take it away too. */
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_PMU_CAPABILITY) > 0) {
		struct kvm_enable_cap cap = {
			.cap = KVM_CAP_PMU_CAPABILITY,
			.args[0] = KVM_PMU_CAP_DISABLE,
		};

		ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap);
	}
	ret = kvm_routes_init(kvm);
	if (ret) {
		snprintf(err, errlen, "KVM_SET_GSI_ROUTING: %s", strerror(-ret));
		goto fail;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_PIT2: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	kvm_destroy_vm(kvm);
	return ret;
}

void kvm_destroy_vm(struct kvm *kvm)
{
	kvm_routes_free(kvm);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->vm_fd = kvm->sys_fd = -1;
}

static int slot_alloc(struct kvm *kvm)
{
	int slot = -ENOSPC;

	pthread_mutex_lock(&kvm->slot_lock);
	for (unsigned int i = 0; i < kvm->max_slots; i++) {
		if (!(kvm->slot_used[i / 64] & (1ULL << (i % 64)))) {
			kvm->slot_used[i / 64] |= 1ULL << (i % 64);
			kvm->nr_slots++;
			slot = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&kvm->slot_lock);
	return slot;
}

static void slot_free(struct kvm *kvm, int slot)
{
	pthread_mutex_lock(&kvm->slot_lock);
	if (kvm->slot_used[slot / 64] & (1ULL << (slot % 64))) {
		kvm->slot_used[slot / 64] &= ~(1ULL << (slot % 64));
		kvm->nr_slots--;
	}
	pthread_mutex_unlock(&kvm->slot_lock);
}

int kvm_set_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva, bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
		.flags = readonly ? KVM_MEM_READONLY : 0,
	};
	int slot;

	if (!size)
		return -EINVAL;
	slot = slot_alloc(kvm);
	if (slot < 0)
		return slot;
	r.slot = (uint32_t)slot;
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int ret = -errno;

		slot_free(kvm, slot);
		return ret;
	}
	return slot;
}

int kvm_del_memslot(struct kvm *kvm, int slot)
{
	/* Size 0 deletes the slot. */
	struct kvm_userspace_memory_region r = { .slot = (uint32_t)slot };

	if (slot < 0 || (unsigned int)slot >= kvm->max_slots)
		return -EINVAL;
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	slot_free(kvm, slot);
	return 0;
}

int kvm_add_memslot(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva,
		    char *err, size_t errlen)
{
	int ret = kvm_set_memslot(kvm, gpa, size, hva, false);

	if (ret == -ENOSPC) {
		snprintf(err, errlen, "out of KVM memslots (%u)", kvm->max_slots);
		return ret;
	}
	if (ret < 0) {
		snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION [%#llx-%#llx]: %s",
			 (unsigned long long)gpa, (unsigned long long)(gpa + size - 1),
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int kvm_coalesce(struct kvm *kvm, uint64_t addr, uint32_t len, int pio)
{
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = len, .pio = pio ? 1 : 0 };

	if (!kvm->coalesced_page ||
	    (pio && ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0))
		return -ENOTSUP;
	return ioctl(kvm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0 ? -errno : 0;
}

int kvm_irq_line(struct kvm *kvm, unsigned int gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}
