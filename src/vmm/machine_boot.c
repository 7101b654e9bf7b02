/*
 * Getting a machine ready to boot: the kernel and initrd loaded through the
 * 64-bit boot protocol, the ACPI tables written from the plan, and every
 * vCPU's CPUID, MSRs and LAPIC set, with the boot CPU at the kernel's entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "vmm/machine.h"
#include "x86/acpi.h"
#include "x86/boot.h"
#include "x86/boot_cpu.h"
#include "x86/bzimage.h"
#include "x86/cpuid.h"

struct loaded_file {
	uint8_t *data;
	size_t size;
};

/*
 * The whole file in memory, read in large pieces: page-faulting a mapping
 * in 4 KiB steps costs one round trip each on network file systems (9p,
 * NFS), many seconds for a kernel.
 */
static int load_file(const char *path, const char *what, struct loaded_file *f,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	int fd, ret = 0;

	f->data = NULL;
	f->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s: %s: not a regular, non-empty file", what, path);
		ret = -EINVAL;
		goto out;
	}
	f->size = (size_t)st.st_size;
	f->data = malloc(f->size);
	if (!f->data) {
		snprintf(err, errlen, "%s: %s: out of memory", what, path);
		ret = -ENOMEM;
		goto out;
	}
	while (done < f->size) {
		ssize_t n = read(fd, f->data + done, f->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: %s: %s", what, path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			goto out;
		}
		done += (size_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(f->data);
		f->data = NULL;
	}
	return ret;
}

int boot_files_load(const struct machine_config *mc, struct boot_files *f,
		    char *err, size_t errlen)
{
	struct loaded_file k = { 0 }, i = { 0 };
	struct x86_bzimage img;
	char why[256];
	int ret;

	memset(f, 0, sizeof(*f));
	ret = load_file(mc->kernel, "kernel", &k, err, errlen);
	if (ret)
		return ret;
	ret = x86_bzimage_parse(k.data, k.size, &img, why, sizeof(why));
	if (ret) {
		/* why starts with "kernel: ". */
		snprintf(err, errlen, "kernel: %s:%s", mc->kernel,
			 strncmp(why, "kernel:", 7) ? why : why + 7);
		free(k.data);
		return ret;
	}
	if (mc->initrd) {
		ret = load_file(mc->initrd, "initrd", &i, err, errlen);
		if (ret) {
			free(k.data);
			return ret;
		}
	}
	f->kernel = k.data;
	f->kernel_size = k.size;
	f->initrd = i.data;
	f->initrd_size = i.size;
	return 0;
}

void boot_files_free(struct boot_files *f)
{
	free(f->kernel);
	free(f->initrd);
	memset(f, 0, sizeof(*f));
}

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

	ret = x86_boot_load(mem, &m->plan->layout, files->kernel, files->kernel_size,
			    files->initrd, files->initrd_size, mc->cmdline, al.rsdp_addr,
			    &bi, err, errlen);
	for (unsigned int i = 0; !ret && i < m->vm.nr_vcpus; i++)
		ret = setup_vcpu(m, i, sup, &cp, &bi, err, errlen);
out:
	free(sup);
	return ret;
}
