/*
 * Getting a machine ready to boot: the kernel and initrd loaded through the
 * 64-bit boot protocol (an unpacked kernel placed with fresh KASLR choices
 * each boot), the ACPI tables written from the plan, and every vCPU's
 * CPUID, MSRs and LAPIC set, with the boot CPU at the kernel's entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/machine.h"
#include "x86/acpi.h"
#include "x86/boot.h"
#include "x86/boot_cpu.h"
#include "x86/boot_load.h"
#include "x86/cpuid.h"

/* What the DSDT, MADT and MCFG say, from the plan. */
static void machine_acpi_platform(const struct vm_plan *plan, struct acpi_platform *p)
{
	struct pci_window w;

	memset(p, 0, sizeof(*p));
	p->ncpus = plan->cfg->machine.cpus;
	p->ecam_base = plan->layout.ecam.base;
	p->bus_last = (uint8_t)x86_ecam_last_bus(&plan->layout);
	w = plan_host_window(plan, PCI_RES_IO);
	p->io.base = w.base;
	p->io.size = w.size;
	w = plan_host_window(plan, PCI_RES_MEM);
	p->mem32.base = w.base;
	p->mem32.size = w.size;
	w = plan_host_window(plan, PCI_RES_PREF);
	p->mem64.base = w.base;
	p->mem64.size = w.size;
	p->prt_gsi = x86_pci_intx_gsi;
	/* In COM order, not port order: COM1 is at 0x3f8, above COM2. */
	for (unsigned int s = 0; s < plan->cfg->nr_serials; s++) {
		for (unsigned int i = 0; i < plan->nr_legacy; i++) {
			const struct plan_legacy *lg = &plan->legacy[i];

			if (lg->serial != (int)s || p->nr_uarts >= ACPI_MAX_UARTS)
				continue;
			p->uarts[p->nr_uarts].port = lg->port;
			p->uarts[p->nr_uarts].irq = (uint8_t)lg->irq;
			p->nr_uarts++;
		}
	}
	p->i8042 = true;
	p->rtc = true;
}

static struct kvm_cpuid2 *supported_cpuid(int sys_fd, char *err, size_t errlen)
{
	for (int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			break;
		c->nent = (uint32_t)nent;
		if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG) {
			snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return NULL;
		}
	}
	snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: out of memory");
	return NULL;
}

/* CPUID, MSRs and LAPIC of vCPU i; the boot vCPU also gets the entry state. */
static int setup_vcpu(struct machine *m, unsigned int i, const struct kvm_cpuid2 *sup,
		      const struct x86_cpuid_params *cp, const struct x86_boot_info *bi,
		      char *err, size_t errlen)
{
	struct vcpu *v = &m->vm.vcpus[i];
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[X86_BOOT_NR_MSRS];
	} msrs;
	struct kvm_cpuid2 *c = NULL;
	struct kvm_lapic_state lapic;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	const char *what;
	int ret;

	ret = x86_cpuid_vcpu(sup, cp, i, &c, err, errlen);
	if (ret)
		return ret;
	ret = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	what = "KVM_SET_CPUID2";
	if (ret < 0)
		goto fail;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = x86_boot_msrs(msrs.e, X86_BOOT_NR_MSRS);
	ret = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (ret >= 0 && (unsigned int)ret < msrs.hdr.nmsrs) {
		snprintf(err, errlen, "vCPU %u: KVM refused %s", i,
			 x86_msr_name(msrs.e[ret].index));
		return -EINVAL;
	}
	what = "KVM_SET_MSRS";
	if (ret < 0)
		goto fail;

	what = "KVM_GET/SET_LAPIC";
	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		goto fail;
	x86_lapic_lint(&lapic, i == 0);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		goto fail;
	if (i)
		return 0;

	what = "KVM_GET/SET_SREGS";
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	x86_boot_sregs(&sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		goto fail;
	memset(&regs, 0, sizeof(regs));
	x86_boot_regs(&regs, bi);
	what = "KVM_SET_REGS";
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "vCPU %u: %s: %s", i, what, strerror(errno));
	return ret;
}

/* Fresh random bits for each boot's KASLR choices. */
static void kernel_random(uint64_t r[2])
{
	if (getrandom(r, 2 * sizeof(r[0]), GRND_NONBLOCK) != (ssize_t)(2 * sizeof(r[0]))) {
		struct timespec t;

		/* No entropy yet (early boot of the host): the clock, at least. */
		clock_gettime(CLOCK_MONOTONIC, &t);
		r[0] = (uint64_t)t.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
		r[1] = (uint64_t)t.tv_sec * 0xbf58476d1ce4e5b9ULL ^ r[0] >> 17;
	}
}

static void log_kernel_placement(const struct boot_files *files, const struct x86_boot_info *bi)
{
	if (!bi->unpacked) {
		pr_info("kernel: bzImage at 0x%llx, %s", (unsigned long long)bi->kernel_addr,
			boot_kernel_source_name(files->source));
		return;
	}
	pr_info("kernel: %s, at 0x%llx (one of %llu places) and virtual offset 0x%llx (one of %llu)%s",
		boot_kernel_source_name(files->source), (unsigned long long)bi->kernel_addr,
		(unsigned long long)bi->phys_slots, (unsigned long long)bi->virt_delta,
		(unsigned long long)bi->virt_slots,
		bi->kaslr ? "; KASLR" : "; no KASLR (nokaslr, or a kernel that cannot move)");
}

int machine_boot_prepare(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *mc = &m->plan->cfg->machine;
	const struct guest_mem *mem = &m->vm.mem.mem;
	const struct boot_files *files = m->files;
	struct x86_cpuid_params cp = {
		.ncpus = m->vm.nr_vcpus,
		.phys_bits = m->plan->layout.phys_bits,
		.tsc_deadline = ioctl(m->vm.kvm.sys_fd, KVM_CHECK_EXTENSION,
				      KVM_CAP_TSC_DEADLINE_TIMER) > 0,
	};
	struct x86_boot_kernel k = {
		.file = files->kernel,
		.len = files->kernel_size,
		.vmlinux = files->source == BOOT_KERNEL_GUEST ? NULL : &files->vmlinux,
	};
	struct kvm_cpuid2 *sup;
	struct acpi_platform p;
	struct acpi_layout al;
	struct x86_boot_info bi;
	uint8_t *acpi;
	int ret;

	sup = supported_cpuid(m->vm.kvm.sys_fd, err, errlen);
	if (!sup)
		return -ENOTSUP;
	ret = x86_cpuid_check(sup, &cp, err, errlen);
	if (ret)
		goto out;

	acpi = guest_mem_ptr(mem, X86_BOOT_ACPI_BASE, X86_BOOT_ACPI_SIZE);
	if (!acpi) {
		snprintf(err, errlen, "no guest RAM for the ACPI tables");
		ret = -ENOSPC;
		goto out;
	}
	machine_acpi_platform(m->plan, &p);
	ret = acpi_build(&p, X86_BOOT_ACPI_BASE, acpi, X86_BOOT_ACPI_SIZE, &al, err, errlen);
	if (ret)
		goto out;

	kernel_random(k.random);
	ret = x86_boot_load(mem, &m->plan->layout, &k, files->initrd, files->initrd_size,
			    mc->cmdline, al.rsdp_addr, &bi, err, errlen);
	if (!ret)
		log_kernel_placement(files, &bi);
	for (unsigned int i = 0; !ret && i < m->vm.nr_vcpus; i++)
		ret = setup_vcpu(m, i, sup, &cp, &bi, err, errlen);
out:
	free(sup);
	return ret;
}
