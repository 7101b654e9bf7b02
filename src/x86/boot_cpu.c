/*
 * vCPU state at the 64-bit entry: GDT and identity map in guest memory, the
 * boot CPU's registers, the boot MSRs and the LAPIC's LINT pins.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "x86/boot_cpu.h"
#include "x86/boot_load.h"

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)	/* in a PD entry: a 2 MiB page */
#define PT_ENTRIES	512
#define SZ_2M		0x200000ULL

/* Descriptor access byte and flags. */
#define DESC_TYPE_CODE_XR_A	0xb	/* execute/read, accessed */
#define DESC_TYPE_DATA_RW_A	0x3	/* read/write, accessed */
#define DESC_TYPE_TSS_BUSY	0xb	/* system: 32/64-bit busy TSS */
#define DESC_TYPE_LDT		0x2

struct desc {
	uint32_t base, limit;		/* limit in the descriptor's 20 bits */
	uint8_t type, s, dpl, p, avl, l, db, g;
};

static uint64_t desc_encode(const struct desc *d)
{
	return (uint64_t)(d->limit & 0xffff) |
	       (uint64_t)(d->base & 0xffffff) << 16 |
	       (uint64_t)(d->type & 0xf) << 40 |
	       (uint64_t)(d->s & 1) << 44 |
	       (uint64_t)(d->dpl & 3) << 45 |
	       (uint64_t)(d->p & 1) << 47 |
	       (uint64_t)((d->limit >> 16) & 0xf) << 48 |
	       (uint64_t)(d->avl & 1) << 52 |
	       (uint64_t)(d->l & 1) << 53 |
	       (uint64_t)(d->db & 1) << 54 |
	       (uint64_t)(d->g & 1) << 55 |
	       (uint64_t)(d->base >> 24) << 56;
}

/* The hidden part of a segment register loaded from descriptor 'd'. */
static void desc_to_seg(const struct desc *d, uint16_t selector, struct kvm_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->base = d->base;
	s->limit = d->g ? (d->limit << 12) | 0xfff : d->limit;
	s->selector = selector;
	s->type = d->type;
	s->present = d->p;
	s->dpl = d->dpl;
	s->db = d->db;
	s->s = d->s;
	s->l = d->l;
	s->g = d->g;
	s->avl = d->avl;
	s->unusable = 0;
}

/* Flat 4 GiB segments, as the boot protocol asks for __BOOT_CS and __BOOT_DS. */
static const struct desc boot_code = {
	.base = 0, .limit = 0xfffff, .type = DESC_TYPE_CODE_XR_A,
	.s = 1, .p = 1, .l = 1, .db = 0, .g = 1,
};
static const struct desc boot_data = {
	.base = 0, .limit = 0xfffff, .type = DESC_TYPE_DATA_RW_A,
	.s = 1, .p = 1, .db = 1, .g = 1,
};

void x86_boot_gdt(uint64_t gdt[X86_BOOT_GDT_ENTRIES])
{
	memset(gdt, 0, X86_BOOT_GDT_ENTRIES * sizeof(gdt[0]));
	gdt[X86_BOOT_CS / 8] = desc_encode(&boot_code);
	gdt[X86_BOOT_DS / 8] = desc_encode(&boot_data);
}

int x86_boot_write_tables(const struct guest_mem *mem, char *err, size_t errlen)
{
	uint64_t gdt[X86_BOOT_GDT_ENTRIES];
	uint64_t *pml4, *pdpt, *pd;
	unsigned int i;

	_Static_assert(X86_BOOT_PD_COUNT * SZ_1G == X86_BOOT_IDMAP_END, "one PD per GiB");
	pml4 = guest_mem_ptr(mem, X86_BOOT_PML4, SZ_4K);
	pdpt = guest_mem_ptr(mem, X86_BOOT_PDPT, SZ_4K);
	pd = guest_mem_ptr(mem, X86_BOOT_PD, X86_BOOT_PD_COUNT * SZ_4K);
	x86_boot_gdt(gdt);
	if (!pml4 || !pdpt || !pd || guest_mem_write(mem, X86_BOOT_GDT, gdt, sizeof(gdt))) {
		snprintf(err, errlen,
			 "guest memory: [0x%llx, 0x%llx) for the GDT and page tables is not mapped",
			 X86_BOOT_GDT, X86_BOOT_PD + X86_BOOT_PD_COUNT * SZ_4K);
		return -EFAULT;
	}
	memset(pml4, 0, SZ_4K);
	memset(pdpt, 0, SZ_4K);
	pml4[0] = X86_BOOT_PDPT | PTE_P | PTE_RW;
	for (i = 0; i < X86_BOOT_PD_COUNT; i++)
		pdpt[i] = (X86_BOOT_PD + i * SZ_4K) | PTE_P | PTE_RW;
	for (i = 0; i < X86_BOOT_PD_COUNT * PT_ENTRIES; i++)
		pd[i] = (uint64_t)i * SZ_2M | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

void x86_boot_sregs(struct kvm_sregs *s)
{
	static const struct desc tss = {
		.limit = 0xffff, .type = DESC_TYPE_TSS_BUSY, .s = 0, .p = 1,
	};
	static const struct desc ldt = {
		.limit = 0xffff, .type = DESC_TYPE_LDT, .s = 0, .p = 1,
	};

	desc_to_seg(&boot_code, X86_BOOT_CS, &s->cs);
	desc_to_seg(&boot_data, X86_BOOT_DS, &s->ds);
	s->es = s->fs = s->gs = s->ss = s->ds;
	desc_to_seg(&tss, 0, &s->tr);
	desc_to_seg(&ldt, 0, &s->ldt);

	s->gdt.base = X86_BOOT_GDT;
	s->gdt.limit = X86_BOOT_GDT_ENTRIES * 8 - 1;
	memset(s->gdt.padding, 0, sizeof(s->gdt.padding));
	/* No IDT: an exception before the kernel loads its own is a triple fault. */
	s->idt.base = 0;
	s->idt.limit = 0;
	memset(s->idt.padding, 0, sizeof(s->idt.padding));

	/*
	 * Caches on (KVM's reset value has CD and NW set; with non-coherent
	 * DMA, i.e. VFIO, KVM would honour them and run the decompressor
	 * uncached).
	 */
	s->cr0 = (s->cr0 & ~(CR0_CD | CR0_NW)) | CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	s->cr2 = 0;
	s->cr3 = X86_BOOT_PML4;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *r, const struct x86_boot_info *bi)
{
	memset(r, 0, sizeof(*r));
	r->rip = bi->entry;
	r->rsi = bi->zero_page;
	r->rsp = bi->stack_top;
	r->rflags = 0x2;	/* bit 1 is always set; IF clear */
}

static const struct {
	uint32_t index;
	uint64_t data;
	const char *name;
} boot_msrs[X86_BOOT_NR_MSRS] = {
	{ X86_MSR_IA32_MISC_ENABLE, X86_MISC_ENABLE_FAST_STRING | X86_MISC_ENABLE_BTS_UNAVAIL |
				    X86_MISC_ENABLE_PEBS_UNAVAIL, "MSR_IA32_MISC_ENABLE" },
	{ X86_MSR_IA32_TSC, 0, "MSR_IA32_TSC" },
	{ X86_MSR_IA32_SYSENTER_CS, 0, "MSR_IA32_SYSENTER_CS" },
	{ X86_MSR_IA32_SYSENTER_ESP, 0, "MSR_IA32_SYSENTER_ESP" },
	{ X86_MSR_IA32_SYSENTER_EIP, 0, "MSR_IA32_SYSENTER_EIP" },
	{ X86_MSR_STAR, 0, "MSR_STAR" },
	{ X86_MSR_LSTAR, 0, "MSR_LSTAR" },
	{ X86_MSR_CSTAR, 0, "MSR_CSTAR" },
	{ X86_MSR_SYSCALL_MASK, 0, "MSR_SYSCALL_MASK" },
	{ X86_MSR_KERNEL_GS_BASE, 0, "MSR_KERNEL_GS_BASE" },
	{ X86_MSR_MTRR_DEF_TYPE, X86_MTRR_DEF_TYPE_E | X86_MTRR_TYPE_WRBACK, "MSR_MTRRdefType" },
};

unsigned int x86_boot_msrs(struct kvm_msr_entry *e, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < X86_BOOT_NR_MSRS && i < max; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].index = boot_msrs[i].index;
		e[i].data = boot_msrs[i].data;
	}
	return i;
}

const char *x86_msr_name(uint32_t index)
{
	for (unsigned int i = 0; i < X86_BOOT_NR_MSRS; i++)
		if (boot_msrs[i].index == index)
			return boot_msrs[i].name;
	return "MSR";
}

static uint32_t lapic_get(const struct kvm_lapic_state *s, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, &s->regs[reg], sizeof(v));
	return v;
}

static void lapic_set(struct kvm_lapic_state *s, unsigned int reg, uint32_t v)
{
	memcpy(&s->regs[reg], &v, sizeof(v));
}

void x86_lapic_lint(struct kvm_lapic_state *s, bool bsp)
{
	uint32_t lint0 = lapic_get(s, X86_APIC_LVT_LINT0);
	uint32_t lint1 = lapic_get(s, X86_APIC_LVT_LINT1);

	lint0 = (lint0 & ~(X86_APIC_DM_MASK | X86_APIC_LVT_MASKED)) | X86_APIC_DM_EXTINT;
	if (!bsp)
		lint0 |= X86_APIC_LVT_MASKED;
	lint1 = (lint1 & ~(X86_APIC_DM_MASK | X86_APIC_LVT_MASKED)) | X86_APIC_DM_NMI;
	lapic_set(s, X86_APIC_LVT_LINT0, lint0);
	lapic_set(s, X86_APIC_LVT_LINT1, lint1);
}
