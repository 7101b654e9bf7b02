/*
 * The CPUID table of each vCPU, made from what KVM supports: the guest's
 * topology (one package, one thread per core), its APIC ids, address bits,
 * the KVM paravirtual leaves, and what the VMM does not offer (PMU, SGX).
 * Pure: works on struct kvm_cpuid2, the caller does the ioctls.
 */
#ifndef VMM_X86_CPUID_H
#define VMM_X86_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define X86_CPUID_MAX_CPUS	254	/* xAPIC ids 0..253, as the MADT has them */

struct x86_cpuid_params {
	unsigned int ncpus;		/* 1..X86_CPUID_MAX_CPUS; vCPU i has APIC id i */
	unsigned int phys_bits;		/* guest physical address bits (the layout's) */
	/*
	 * KVM_CHECK_EXTENSION(KVM_CAP_TSC_DEADLINE_TIMER) > 0: advertise the
	 * LAPIC timer's TSC-deadline mode, which KVM_GET_SUPPORTED_CPUID
	 * only reports itself since Linux 6.15. Needs the in-kernel LAPIC.
	 */
	bool tsc_deadline;
};

/*
 * The CPUID table for vCPU 'cpu' (0..ncpus-1), from 'sup' as
 * KVM_GET_SUPPORTED_CPUID returned it; *out is calloc'ed (free() it) with
 * room for what is added. What changes from 'sup':
 *
 *  - leaf 1: EBX[31:24] initial APIC id = cpu, EBX[23:16] addressable ids
 *    (2^ceil(log2 ncpus)), EDX HTT when ncpus > 1, ECX hypervisor;
 *    ECX TSC-deadline if params say so; ECX PDCM cleared (no PMU);
 *  - leaves 0xb and 0x1f (0x1f only if KVM lists it): rewritten whole, an
 *    SMT level of 1 thread and a core level of ncpus, EDX = x2APIC id;
 *    0xb is added when leaf 0 reaches it;
 *  - leaf 4 (Intel) and 0x8000001d (AMD): cores per package, and caches
 *    shared by one thread (L1, L2) or the whole package (L3);
 *  - AMD: 0x80000001 ECX CmpLegacy when ncpus > 1, 0x80000008 ECX
 *    NC = ncpus - 1 and ApicIdSize, 0x8000001e ids (if KVM lists it);
 *  - 0x80000008 EAX[7:0] = params->phys_bits, which must not exceed the
 *    host's (-EINVAL otherwise);
 *  - no PMU: leaf 0xa zeroed, AMD PerfCtrCore and 0x80000022 cleared;
 *  - no SGX (no EPC is given): leaf 7 SGX and SGX_LC cleared, 0x12 zeroed;
 *  - 0x40000000 "KVMKVMKVM\0\0\0", max leaf 0x40000001; 0x40000001 keeps
 *    KVM's features and adds NOP_IO_DELAY (port 0x80 is not emulated).
 *
 * Returns 0, -EINVAL (bad params, leaf 0 or 1 missing, phys_bits too
 * large) or -ENOMEM, with a message in err.
 */
int x86_cpuid_vcpu(const struct kvm_cpuid2 *sup, const struct x86_cpuid_params *p,
		   unsigned int cpu, struct kvm_cpuid2 **out, char *err, size_t errlen);

/*
 * Check params against 'sup' without building anything (the phys_bits
 * limit, ncpus): to refuse a machine before its vCPUs exist.
 */
int x86_cpuid_check(const struct kvm_cpuid2 *sup, const struct x86_cpuid_params *p,
		    char *err, size_t errlen);

/* The entry for (function, index), the index ignored for leaves without one; or NULL. */
struct kvm_cpuid_entry2 *x86_cpuid_find(const struct kvm_cpuid2 *c, uint32_t function,
					uint32_t index);

/* The host's physical address bits as 'sup' reports them (36 without 0x80000008). */
unsigned int x86_cpuid_phys_bits(const struct kvm_cpuid2 *sup);

#endif
