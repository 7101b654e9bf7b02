/*
 * Per-vCPU CPUID tables from KVM_GET_SUPPORTED_CPUID: topology, APIC ids,
 * physical address bits, the KVM leaves, and no PMU or SGX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/kvm_para.h>

#include "x86/cpuid.h"

#define LEAF_BASIC_MAX		0x0
#define LEAF_FEATURES		0x1
#define LEAF_CACHE		0x4
#define LEAF_EXT_FEATURES	0x7
#define LEAF_PMU		0xa
#define LEAF_TOPOLOGY		0xb
#define LEAF_SGX		0x12
#define LEAF_TOPOLOGY_V2	0x1f
#define LEAF_EXT_FEATURES_AMD	0x80000001
#define LEAF_ADDR_SIZES		0x80000008
#define LEAF_AMD_CACHE		0x8000001d
#define LEAF_AMD_TOPOLOGY	0x8000001e
#define LEAF_AMD_PMU_V2		0x80000022

/* Leaf 1 */
#define L1_EBX_IDS_MASK		0xffff0000u	/* APIC id, addressable ids */
#define L1_ECX_PDCM		(1u << 15)
#define L1_ECX_TSC_DEADLINE	(1u << 24)
#define L1_ECX_HYPERVISOR	(1u << 31)
#define L1_EDX_HTT		(1u << 28)
/* Leaf 7.0 */
#define L7_EBX_SGX		(1u << 2)
#define L7_ECX_SGX_LC		(1u << 30)
/* Leaves 4 and 0x8000001d: cache type, level, sharing, cores */
#define CACHE_TYPE(eax)		((eax) & 0x1f)
#define CACHE_LEVEL(eax)	(((eax) >> 5) & 0x7)
#define CACHE_SHARING_SHIFT	14
#define CACHE_SHARING_MASK	(0xfffu << CACHE_SHARING_SHIFT)
#define CACHE_CORES_SHIFT	26
#define CACHE_CORES_MASK	(0x3fu << CACHE_CORES_SHIFT)
/* Leaves 0xb and 0x1f */
#define TOPO_LEVEL_SMT		1
#define TOPO_LEVEL_CORE		2
/* 0x80000001 ECX (AMD) */
#define AMD_ECX_CMP_LEGACY	(1u << 1)
#define AMD_ECX_PERFCTR_CORE	(1u << 23)
/* 0x80000008 */
#define ADDR_EAX_PHYS_MASK	0xffu
#define AMD_ECX_NC_MASK		0xffu
#define AMD_ECX_APICID_SHIFT	12
#define AMD_ECX_APICID_MASK	(0xfu << AMD_ECX_APICID_SHIFT)

#define DEFAULT_PHYS_BITS	36	/* without leaf 0x80000008 */
#define ADDED_ENTRIES		8	/* 0xb x3, 0x1f x3, 0x40000000, 0x40000001 */

enum vendor { VENDOR_INTEL, VENDOR_AMD, VENDOR_OTHER };

/* 12-byte vendor strings as leaf 0 returns them, in EBX, EDX, ECX. */
static bool vendor_is(const struct kvm_cpuid_entry2 *e, const char *s)
{
	return !memcmp(&e->ebx, s, 4) && !memcmp(&e->edx, s + 4, 4) && !memcmp(&e->ecx, s + 8, 4);
}

static enum vendor vendor_of(const struct kvm_cpuid_entry2 *leaf0)
{
	if (vendor_is(leaf0, "GenuineIntel"))
		return VENDOR_INTEL;
	if (vendor_is(leaf0, "AuthenticAMD") || vendor_is(leaf0, "HygonGenuine"))
		return VENDOR_AMD;
	return VENDOR_OTHER;
}

static unsigned int count_order(unsigned int n)
{
	unsigned int o = 0;

	while ((1u << o) < n)
		o++;
	return o;
}

struct kvm_cpuid_entry2 *x86_cpuid_find(const struct kvm_cpuid2 *c, uint32_t function,
					uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return (struct kvm_cpuid_entry2 *)e;
	}
	return NULL;
}

unsigned int x86_cpuid_phys_bits(const struct kvm_cpuid2 *sup)
{
	const struct kvm_cpuid_entry2 *ext = x86_cpuid_find(sup, 0x80000000, 0);
	const struct kvm_cpuid_entry2 *e = x86_cpuid_find(sup, LEAF_ADDR_SIZES, 0);

	if (!ext || ext->eax < LEAF_ADDR_SIZES || !e || !(e->eax & ADDR_EAX_PHYS_MASK))
		return DEFAULT_PHYS_BITS;
	return e->eax & ADDR_EAX_PHYS_MASK;
}

int x86_cpuid_check(const struct kvm_cpuid2 *sup, const struct x86_cpuid_params *p,
		    char *err, size_t errlen)
{
	unsigned int host_bits;

	if (p->ncpus < 1 || p->ncpus > X86_CPUID_MAX_CPUS) {
		snprintf(err, errlen, "cpus %u: expected 1 to %u", p->ncpus, X86_CPUID_MAX_CPUS);
		return -EINVAL;
	}
	if (!x86_cpuid_find(sup, LEAF_BASIC_MAX, 0) || !x86_cpuid_find(sup, LEAF_FEATURES, 0)) {
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: no leaf 0 or 1");
		return -EINVAL;
	}
	if (p->phys_bits < 32) {
		snprintf(err, errlen, "phys-bits %u: expected at least 32", p->phys_bits);
		return -EINVAL;
	}
	host_bits = x86_cpuid_phys_bits(sup);
	if (p->phys_bits > host_bits) {
		snprintf(err, errlen,
			 "phys-bits %u: the host CPU has %u physical address bits (CPUID 0x80000008 as KVM reports it); use phys-bits = %u or less",
			 p->phys_bits, host_bits, host_bits);
		return -EINVAL;
	}
	return 0;
}

/* Cache sharing in leaf 4 / 0x8000001d: L1 and L2 per core (one thread), L3 per package. */
static uint32_t cache_sharing(uint32_t eax, unsigned int ids)
{
	uint32_t share = CACHE_LEVEL(eax) >= 3 ? ids - 1 : 0;

	if (share > 0xfff)
		share = 0xfff;
	return (eax & ~CACHE_SHARING_MASK) | share << CACHE_SHARING_SHIFT;
}

static void edit_entry(struct kvm_cpuid_entry2 *e, enum vendor v,
		       const struct x86_cpuid_params *p, unsigned int cpu)
{
	unsigned int order = count_order(p->ncpus);
	unsigned int ids = 1u << order;		/* addressable APIC ids in the package */
	uint32_t cores;

	switch (e->function) {
	case LEAF_FEATURES:
		e->ebx = (e->ebx & ~L1_EBX_IDS_MASK) | cpu << 24 | (ids > 255 ? 255 : ids) << 16;
		if (p->ncpus > 1)
			e->edx |= L1_EDX_HTT;
		else
			e->edx &= ~L1_EDX_HTT;
		e->ecx |= L1_ECX_HYPERVISOR;
		if (p->tsc_deadline)
			e->ecx |= L1_ECX_TSC_DEADLINE;
		e->ecx &= ~L1_ECX_PDCM;
		break;
	case LEAF_CACHE:
		if (v == VENDOR_AMD || !CACHE_TYPE(e->eax))
			break;
		cores = ids - 1 > 0x3f ? 0x3f : ids - 1;
		e->eax = (cache_sharing(e->eax, ids) & ~CACHE_CORES_MASK) | cores << CACHE_CORES_SHIFT;
		break;
	case LEAF_EXT_FEATURES:
		if (e->index == 0) {
			e->ebx &= ~L7_EBX_SGX;
			e->ecx &= ~L7_ECX_SGX_LC;
		}
		break;
	case LEAF_PMU:
	case LEAF_SGX:
	case LEAF_AMD_PMU_V2:
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case KVM_CPUID_SIGNATURE:
		e->eax = KVM_CPUID_FEATURES;
		memcpy(&e->ebx, "KVMK", 4);
		memcpy(&e->ecx, "VMKV", 4);
		memcpy(&e->edx, "M\0\0\0", 4);
		break;
	case KVM_CPUID_FEATURES:
		e->eax |= 1u << KVM_FEATURE_NOP_IO_DELAY;
		break;
	case LEAF_EXT_FEATURES_AMD:
		e->ecx &= ~AMD_ECX_PERFCTR_CORE;
		if (v != VENDOR_AMD)
			break;
		if (p->ncpus > 1)
			e->ecx |= AMD_ECX_CMP_LEGACY;
		else
			e->ecx &= ~AMD_ECX_CMP_LEGACY;
		break;
	case LEAF_ADDR_SIZES:
		e->eax = (e->eax & ~ADDR_EAX_PHYS_MASK) | p->phys_bits;
		if (v == VENDOR_AMD)
			e->ecx = (e->ecx & ~(AMD_ECX_NC_MASK | AMD_ECX_APICID_MASK)) |
				 order << AMD_ECX_APICID_SHIFT | (p->ncpus - 1);
		break;
	case LEAF_AMD_CACHE:
		if (v == VENDOR_AMD && CACHE_TYPE(e->eax))
			e->eax = cache_sharing(e->eax, ids);
		break;
	case LEAF_AMD_TOPOLOGY:
		if (v != VENDOR_AMD)
			break;
		e->eax = cpu;		/* extended APIC id */
		e->ebx = cpu & 0xff;	/* core id; threads per core - 1 = 0 */
		e->ecx = 0;		/* node 0, one node per package */
		e->edx = 0;
		break;
	}
}

static struct kvm_cpuid_entry2 *add_entry(struct kvm_cpuid2 *c, uint32_t function,
					  uint32_t index, uint32_t flags)
{
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	return e;
}

/* x2APIC topology (0xb or 0x1f): SMT level of one thread, core level of ncpus. */
static void add_topology(struct kvm_cpuid2 *c, uint32_t leaf,
			 const struct x86_cpuid_params *p, unsigned int cpu)
{
	struct kvm_cpuid_entry2 *e;

	e = add_entry(c, leaf, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	e->eax = 0;				/* id bits below the next level */
	e->ebx = 1;				/* threads per core */
	e->ecx = 0 | TOPO_LEVEL_SMT << 8;
	e->edx = cpu;
	e = add_entry(c, leaf, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	e->eax = count_order(p->ncpus);
	e->ebx = p->ncpus;			/* logical processors in the package */
	e->ecx = 1 | TOPO_LEVEL_CORE << 8;
	e->edx = cpu;
	e = add_entry(c, leaf, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	e->ecx = 2;				/* level type 0: no more levels */
	e->edx = cpu;
}

int x86_cpuid_vcpu(const struct kvm_cpuid2 *sup, const struct x86_cpuid_params *p,
		   unsigned int cpu, struct kvm_cpuid2 **out, char *err, size_t errlen)
{
	const struct kvm_cpuid_entry2 *leaf0;
	struct kvm_cpuid2 *c;
	struct kvm_cpuid_entry2 *e;
	bool has_1f = false;
	enum vendor v;
	int ret;

	*out = NULL;
	ret = x86_cpuid_check(sup, p, err, errlen);
	if (ret)
		return ret;
	if (cpu >= p->ncpus) {
		snprintf(err, errlen, "vCPU %u: only %u vCPUs", cpu, p->ncpus);
		return -EINVAL;
	}
	leaf0 = x86_cpuid_find(sup, LEAF_BASIC_MAX, 0);
	v = vendor_of(leaf0);

	c = calloc(1, sizeof(*c) + (sup->nent + ADDED_ENTRIES) * sizeof(c->entries[0]));
	if (!c) {
		snprintf(err, errlen, "CPUID table: out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < sup->nent; i++) {
		const struct kvm_cpuid_entry2 *s = &sup->entries[i];

		/* KVM reports no topology here (zeros): ours replaces it whole. */
		if (s->function == LEAF_TOPOLOGY || s->function == LEAF_TOPOLOGY_V2) {
			has_1f |= s->function == LEAF_TOPOLOGY_V2;
			continue;
		}
		e = &c->entries[c->nent++];
		*e = *s;
		edit_entry(e, v, p, cpu);
	}
	if (leaf0->eax >= LEAF_TOPOLOGY)
		add_topology(c, LEAF_TOPOLOGY, p, cpu);
	if (has_1f && leaf0->eax >= LEAF_TOPOLOGY_V2)
		add_topology(c, LEAF_TOPOLOGY_V2, p, cpu);
	if (!x86_cpuid_find(c, KVM_CPUID_SIGNATURE, 0))
		edit_entry(add_entry(c, KVM_CPUID_SIGNATURE, 0, 0), v, p, cpu);
	if (!x86_cpuid_find(c, KVM_CPUID_FEATURES, 0))
		edit_entry(add_entry(c, KVM_CPUID_FEATURES, 0, 0), v, p, cpu);
	*out = c;
	return 0;
}
