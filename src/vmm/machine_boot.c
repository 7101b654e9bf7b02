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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "legacy/serial.h"
#include "util/log.h"
#include "vmm/machine.h"
#include "x86/acpi.h"

struct mapped_file {
	void *data;
	size_t size;
};

static int map_file(const char *path, const char *what, struct mapped_file *f,
		    char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	f->data = NULL;
	f->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s %s: not a regular, non-empty file", what, path);
		close(fd);
		return -EINVAL;
	}
	f->size = (size_t)st.st_size;
	f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = f->data == MAP_FAILED ? -errno : 0;
	if (ret) {
		f->data = NULL;
		snprintf(err, errlen, "%s %s: mmap: %s", what, path, strerror(-ret));
	}
	close(fd);
	return ret;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->size);
	f->data = NULL;
}

/* What the DSDT, MADT and MCFG say, from the plan. */
static void machine_acpi_platform(const struct vm_plan *plan, struct acpi_platform *p)
{
	struct pci_window w;
	uint64_t last_bus = plan->layout.ecam.size / SZ_1M;

	memset(p, 0, sizeof(*p));
	p->ncpus = plan->cfg->machine.cpus;
	p->ecam_base = plan->layout.ecam.base;
	p->bus_last = last_bus ? (uint8_t)(last_bus > 256 ? 255 : last_bus - 1) : 0;
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

/* Interim boot path (to be replaced by src/x86's loader): fixed low addresses. */
#include <asm/bootparam.h>

#define BOOT_GDT_ADDR		0x500ULL
#define BOOT_ZERO_PAGE		0x7000ULL
#define BOOT_PML4		0x9000ULL
#define BOOT_PDPT		0xa000ULL
#define BOOT_PD			0xb000ULL	/* four pages: 4 GiB of 2 MiB pages */
#define BOOT_CMDLINE		0x20000ULL
#define BOOT_CMDLINE_MAX	0x10000ULL
#define BOOT_ACPI_BASE		0xe0000ULL
#define BOOT_ACPI_SIZE		0x20000ULL
#define BOOT_KERNEL_ADDR	0x100000ULL

struct boot_info {
	uint64_t entry;
};

static int interim_load(struct machine *m, const uint8_t *k, size_t klen,
			const uint8_t *initrd, size_t ilen, uint64_t rsdp,
			struct boot_info *bi, char *err, size_t errlen)
{
	const struct guest_mem *mem = &m->vm.mem.mem;
	const struct x86_layout *l = &m->plan->layout;
	const char *cmdline = m->plan->cfg->machine.cmdline ? m->plan->cfg->machine.cmdline : "";
	struct boot_params bp;
	size_t setup_size, ksize, cl = strlen(cmdline) + 1;
	uint64_t init_size, initrd_addr, limit;
	uint64_t *pml4, *pdpt, *pd;

	if (klen < 0x300 + sizeof(bp.hdr)) {
		snprintf(err, errlen, "kernel: too small to be a bzImage");
		return -EINVAL;
	}
	memset(&bp, 0, sizeof(bp));
	memcpy(&bp.hdr, k + 0x1f1, sizeof(bp.hdr));
	if (bp.hdr.header != 0x53726448 || bp.hdr.version < 0x20c ||
	    !(bp.hdr.xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errlen, "kernel: not a 64-bit bzImage (boot protocol 2.12+)");
		return -EINVAL;
	}
	setup_size = ((size_t)(bp.hdr.setup_sects ? bp.hdr.setup_sects : 4) + 1) * 512;
	if (setup_size >= klen) {
		snprintf(err, errlen, "kernel: truncated");
		return -EINVAL;
	}
	ksize = klen - setup_size;
	init_size = bp.hdr.init_size > ksize ? bp.hdr.init_size : ksize;
	if (guest_mem_write(mem, BOOT_KERNEL_ADDR, k + setup_size, ksize) < 0 ||
	    !guest_mem_ptr(mem, BOOT_KERNEL_ADDR, init_size)) {
		snprintf(err, errlen, "kernel: does not fit in guest RAM");
		return -ENOSPC;
	}
	if (cl > BOOT_CMDLINE_MAX || cl > (size_t)bp.hdr.cmdline_size + 1) {
		snprintf(err, errlen, "cmdline: longer than the kernel's %u bytes",
			 bp.hdr.cmdline_size);
		return -EINVAL;
	}
	guest_mem_write(mem, BOOT_CMDLINE, cmdline, cl);
	bp.hdr.type_of_loader = 0xff;
	bp.hdr.loadflags |= LOADED_HIGH;
	bp.hdr.cmd_line_ptr = BOOT_CMDLINE;
	bp.hdr.code32_start = BOOT_KERNEL_ADDR;
	if (initrd) {
		limit = l->ram[0].base + l->ram[0].size;
		if (limit > (uint64_t)bp.hdr.initrd_addr_max + 1)
			limit = (uint64_t)bp.hdr.initrd_addr_max + 1;
		initrd_addr = (limit - ilen) & ~0xfffULL;
		if (ilen > limit || initrd_addr < BOOT_KERNEL_ADDR + init_size ||
		    guest_mem_write(mem, initrd_addr, initrd, ilen) < 0) {
			snprintf(err, errlen, "initrd: does not fit in guest RAM below %#llx",
				 (unsigned long long)limit);
			return -ENOSPC;
		}
		bp.hdr.ramdisk_image = (uint32_t)initrd_addr;
		bp.hdr.ramdisk_size = (uint32_t)ilen;
	}
	bp.acpi_rsdp_addr = rsdp;
	for (unsigned int i = 0; i < l->nr_e820 && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		bp.e820_table[i].addr = l->e820[i].addr;
		bp.e820_table[i].size = l->e820[i].size;
		bp.e820_table[i].type = l->e820[i].type;
		bp.e820_entries++;
	}
	guest_mem_write(mem, BOOT_ZERO_PAGE, &bp, sizeof(bp));

	/* Identity map of the first 4 GiB with 2 MiB pages. */
	pml4 = guest_mem_ptr(mem, BOOT_PML4, 0x1000);
	pdpt = guest_mem_ptr(mem, BOOT_PDPT, 0x1000);
	pd = guest_mem_ptr(mem, BOOT_PD, 0x4000);
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = BOOT_PDPT | 0x3;
	for (unsigned int i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 0x1000) | 0x3;
	for (unsigned int i = 0; i < 2048; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	bi->entry = BOOT_KERNEL_ADDR + 0x200;
	return 0;
}

static void interim_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->l = code;
	s->db = !code;
	s->g = 1;
}

static int interim_bsp(struct machine *m, const struct boot_info *bi, char *err,
		       size_t errlen)
{
	const struct guest_mem *mem = &m->vm.mem.mem;
	struct vcpu *v = &m->vm.vcpus[0];
	uint64_t gdt[4] = { 0, 0, 0x00af9b000000ffffULL, 0x00cf93000000ffffULL };
	struct kvm_sregs s;
	struct kvm_regs r;

	guest_mem_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		goto fail;
	s.gdt.base = BOOT_GDT_ADDR;
	s.gdt.limit = sizeof(gdt) - 1;
	interim_seg(&s.cs, 0x10, 0xb, true);
	interim_seg(&s.ds, 0x18, 0x3, false);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.cr0 = 0x80000033;	/* PG | NE | ET | MP | PE */
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x20;		/* PAE */
	s.efer = 0x500;		/* LME | LMA */
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		goto fail;
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = bi->entry;
	r.rsi = BOOT_ZERO_PAGE;
	r.rsp = 0x8ff0;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "vCPU 0: setting boot registers: %s", strerror(errno));
	return -errno;
}

static int interim_cpuid(struct machine *m, char *err, size_t errlen)
{
	struct kvm_cpuid2 *c;
	int nent = 256, ret = 0;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(m->vm.kvm.sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		ret = -errno;
		free(c);
		if (ret != -E2BIG) {
			snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
			return ret;
		}
		nent *= 2;
	}
	for (unsigned int i = 0; i < m->vm.nr_vcpus; i++) {
		for (unsigned int e = 0; e < c->nent; e++) {
			struct kvm_cpuid_entry2 *x = &c->entries[e];

			if (x->function == 1) {
				x->ebx = (x->ebx & 0x0000ffff) | (i << 24) |
					 (m->vm.nr_vcpus << 16);
				x->ecx |= 1u << 31;
				if (ioctl(m->vm.kvm.sys_fd, KVM_CHECK_EXTENSION,
					  KVM_CAP_TSC_DEADLINE_TIMER) > 0)
					x->ecx |= 1u << 24;
				x->edx |= 1u << 28;
			}
			if (x->function == 0xb || x->function == 0x1f)
				x->edx = i;
		}
		if (ioctl(m->vm.vcpus[i].fd, KVM_SET_CPUID2, c) < 0) {
			ret = -errno;
			snprintf(err, errlen, "vCPU %u: KVM_SET_CPUID2: %s", i, strerror(errno));
			break;
		}
	}
	free(c);
	return ret;
}

static int interim_lapic(struct machine *m, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < m->vm.nr_vcpus; i++) {
		struct kvm_lapic_state st;
		uint32_t *lint0 = (uint32_t *)&st.regs[0x350];
		uint32_t *lint1 = (uint32_t *)&st.regs[0x360];

		if (ioctl(m->vm.vcpus[i].fd, KVM_GET_LAPIC, &st) < 0)
			goto fail;
		*lint0 = (*lint0 & ~0x700u) | (7u << 8);	/* ExtINT */
		*lint1 = (*lint1 & ~0x700u) | (4u << 8);	/* NMI */
		if (ioctl(m->vm.vcpus[i].fd, KVM_SET_LAPIC, &st) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "LAPIC: %s", strerror(errno));
	return -errno;
}

int machine_boot_prepare(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *mc = &m->plan->cfg->machine;
	struct mapped_file kernel = { 0 }, initrd = { 0 };
	struct acpi_platform p;
	struct acpi_layout al;
	struct boot_info bi;
	uint8_t *acpi;
	int ret;

	acpi = guest_mem_ptr(&m->vm.mem.mem, BOOT_ACPI_BASE, BOOT_ACPI_SIZE);
	if (!acpi) {
		snprintf(err, errlen, "no guest RAM for the ACPI tables");
		return -ENOSPC;
	}
	machine_acpi_platform(m->plan, &p);
	ret = acpi_build(&p, BOOT_ACPI_BASE, acpi, BOOT_ACPI_SIZE, &al, err, errlen);
	if (ret)
		return ret;
	ret = map_file(mc->kernel, "kernel", &kernel, err, errlen);
	if (!ret && mc->initrd)
		ret = map_file(mc->initrd, "initrd", &initrd, err, errlen);
	if (!ret)
		ret = interim_load(m, kernel.data, kernel.size, initrd.data, initrd.size,
				   al.rsdp_addr, &bi, err, errlen);
	unmap_file(&kernel);
	unmap_file(&initrd);
	if (!ret)
		ret = interim_cpuid(m, err, errlen);
	if (!ret)
		ret = interim_lapic(m, err, errlen);
	if (!ret)
		ret = interim_bsp(m, &bi, err, errlen);
	return ret;
}
