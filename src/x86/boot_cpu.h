/*
 * The state vCPUs start in for the 64-bit boot protocol: the boot CPU's
 * long-mode registers, GDT and identity map, the MSRs that firmware would
 * have set on every CPU, and the LAPIC's LINT0/LINT1 as a PC BIOS leaves them.
 * Pure: fills KVM's structures, the caller does the ioctls.
 */
#ifndef VMM_X86_BOOT_CPU_H
#define VMM_X86_BOOT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "hw/guest_mem.h"
#include "x86/boot.h"

struct x86_boot_info;

/*
 * Write the GDT (X86_BOOT_GDT) and the page tables (X86_BOOT_PML4...): an
 * identity map of 0 - 4 GiB in 2 MiB pages, read-write, supervisor.
 * x86_boot_load() calls it. 0 or -EFAULT with a message in err.
 */
int x86_boot_write_tables(const struct guest_mem *mem, char *err, size_t errlen);

/* The GDT's descriptors, as written: [0] and [1] null, [2] code, [3] data. */
void x86_boot_gdt(uint64_t gdt[X86_BOOT_GDT_ENTRIES]);

/*
 * The boot CPU's special registers for the 64-bit entry, applied to 's' as
 * KVM_GET_SREGS returned it: CR0 PE|MP|ET|NE|PG (CD and NW cleared), CR3
 * the PML4, CR4 PAE, EFER LME|LMA, GDTR the boot GDT, IDTR empty, CS
 * __BOOT_CS (64-bit code), DS/ES/FS/GS/SS __BOOT_DS (flat data), a busy TSS
 * and an LDT that VM entry accepts. apic_base and the interrupt bitmap are
 * left as KVM had them.
 */
void x86_boot_sregs(struct kvm_sregs *s);

/*
 * The boot CPU's general registers: all zero but RIP = bi->entry, RSI =
 * bi->zero_page, RSP = bi->stack_top and RFLAGS = 0x2 (interrupts off).
 */
void x86_boot_regs(struct kvm_regs *r, const struct x86_boot_info *bi);

/* MSRs every vCPU gets at boot (x86_boot_msrs()). */
#define X86_MSR_IA32_TSC		0x00000010
#define X86_MSR_IA32_SYSENTER_CS	0x00000174
#define X86_MSR_IA32_SYSENTER_ESP	0x00000175
#define X86_MSR_IA32_SYSENTER_EIP	0x00000176
#define X86_MSR_IA32_MISC_ENABLE	0x000001a0
#define X86_MSR_MTRR_DEF_TYPE		0x000002ff
#define X86_MSR_STAR			0xc0000081
#define X86_MSR_LSTAR			0xc0000082
#define X86_MSR_CSTAR			0xc0000083
#define X86_MSR_SYSCALL_MASK		0xc0000084
#define X86_MSR_KERNEL_GS_BASE		0xc0000102

#define X86_MISC_ENABLE_FAST_STRING	(1ULL << 0)
#define X86_MISC_ENABLE_BTS_UNAVAIL	(1ULL << 11)
#define X86_MISC_ENABLE_PEBS_UNAVAIL	(1ULL << 12)
#define X86_MTRR_DEF_TYPE_E		(1ULL << 11)	/* MTRRs enabled */
#define X86_MTRR_TYPE_WRBACK		6

#define X86_BOOT_NR_MSRS		11

/*
 * Fill up to 'max' entries with the boot MSRs: MISC_ENABLE fast strings (and
 * BTS/PEBS unavailable: the guest has no PMU), TSC 0, SYSENTER_* and
 * STAR/LSTAR/CSTAR/SFMASK/KERNEL_GS_BASE 0, MTRRdefType = enabled,
 * write-back (0x806). Returns how many were filled (X86_BOOT_NR_MSRS when
 * max allows). The same list suits every vCPU; Linux wants identical MTRRs.
 */
unsigned int x86_boot_msrs(struct kvm_msr_entry *e, unsigned int max);

/* "MSR_IA32_TSC", ... for a message about a KVM_SET_MSRS that stopped early. */
const char *x86_msr_name(uint32_t index);

/* Local APIC register offsets in struct kvm_lapic_state. */
#define X86_APIC_LVT_LINT0		0x350
#define X86_APIC_LVT_LINT1		0x360
#define X86_APIC_LVT_MASKED		(1u << 16)
#define X86_APIC_DM_MASK		(7u << 8)
#define X86_APIC_DM_NMI			(4u << 8)
#define X86_APIC_DM_EXTINT		(7u << 8)

/*
 * LINT0 and LINT1 as a PC BIOS leaves them (virtual-wire mode): LINT0
 * ExtINT, unmasked on the boot CPU only (the 8259's output goes to one CPU),
 * LINT1 NMI on every CPU. Other bits are kept.
 */
void x86_lapic_lint(struct kvm_lapic_state *s, bool bsp);

#endif
