/*
 * Tests of the per-vCPU CPUID tables, from synthetic KVM_GET_SUPPORTED_CPUID
 * answers of an Intel and an AMD host: APIC ids, topology leaves, cache
 * sharing, address bits, the KVM leaves, PMU and SGX removed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <asm/kvm_para.h>

#include "x86/cpuid.h"

#define SIG	KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define MAX_ENT	64

static char err[512];

static struct kvm_cpuid2 *sup_new(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_ENT * sizeof(c->entries[0]));

	assert_non_null(c);
	return c;
}

static void add(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx, uint32_t flags,
		uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	struct kvm_cpuid_entry2 *e;

	assert_true(c->nent < MAX_ENT);
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	e->eax = eax;
	e->ebx = ebx;
	e->ecx = ecx;
	e->edx = edx;
}

static uint32_t str4(const char *s)
{
	uint32_t v;

	memcpy(&v, s, 4);
	return v;
}

static void add_vendor(struct kvm_cpuid2 *c, uint32_t max, const char *v)
{
	add(c, 0, 0, 0, max, str4(v), str4(v + 8), str4(v + 4));
}

#define KVM_FEATURES_HOST ((1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_CLOCKSOURCE2) | \
			   (1u << KVM_FEATURE_ASYNC_PF) | (1u << KVM_FEATURE_STEAL_TIME) | \
			   (1u << KVM_FEATURE_PV_EOI) | (1u << KVM_FEATURE_PV_UNHALT) | \
			   (1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT))

/* Roughly what KVM 6.x on a 39-bit Intel client CPU answers. */
static struct kvm_cpuid2 *sup_intel(void)
{
	struct kvm_cpuid2 *c = sup_new();

	add_vendor(c, 0x1f, "GenuineIntel");
	/* host APIC id 12, 16 ids, CLFLUSH 8; PDCM; HTT */
	add(c, 1, 0, 0, 0x000906ea, 0x0c100800, 0x76fafbff | (1u << 15), 0x1f8bfbff | (1u << 28));
	add(c, 2, 0, 0, 0x00feff01, 0x000000f0, 0, 0);
	/* L1d, L1i, L2 shared by 2 threads, L3 by 16; 8 cores */
	add(c, 4, 0, SIG, 0x1c004121, 0x01c0003f, 0x0000003f, 0);
	add(c, 4, 1, SIG, 0x1c004122, 0x01c0003f, 0x0000003f, 0);
	add(c, 4, 2, SIG, 0x1c004143, 0x00c0003f, 0x000003ff, 0);
	add(c, 4, 3, SIG, 0x1c03c163, 0x03c0003f, 0x00003fff, 6);
	add(c, 4, 4, SIG, 0, 0, 0, 0);
	add(c, 6, 0, 0, 4, 0, 0, 0);
	add(c, 7, 0, SIG, 0, 0x029c67af | (1u << 2), 0x40000000 | 0x4, 0xbc000400);
	add(c, 0xa, 0, 0, 0x07300404, 0, 0, 0x603);
	add(c, 0xb, 0, SIG, 0, 0, 0, 0);	/* KVM: "no topology" */
	add(c, 0xd, 0, SIG, 7, 0x340, 0x340, 0);
	add(c, 0x12, 0, SIG, 1, 0, 0, 0x241f);
	add(c, 0x1f, 0, SIG, 0, 0, 0, 0);
	add(c, KVM_CPUID_SIGNATURE, 0, 0, KVM_CPUID_FEATURES, str4("KVMK"), str4("VMKV"), str4("M\0\0\0"));
	add(c, KVM_CPUID_FEATURES, 0, 0, KVM_FEATURES_HOST, 0, 0, 0);
	add(c, 0x80000000, 0, 0, 0x80000008, 0, 0, 0);
	add(c, 0x80000001, 0, 0, 0, 0, 0x00000121, 0x2c100800);
	add(c, 0x80000008, 0, 0, 0x00003027, 0, 0, 0);
	return c;
}

/* An AMD Zen host: no leaf 0xb listed, TOPOEXT leaves, PerfMonV2. */
static struct kvm_cpuid2 *sup_amd(void)
{
	struct kvm_cpuid2 *c = sup_new();

	add_vendor(c, 0x10, "AuthenticAMD");
	add(c, 1, 0, 0, 0x00a20f12, 0x05100800, 0xf6f83203, 0x178bfbff);
	add(c, 4, 0, SIG, 0, 0, 0, 0);		/* AMD: reserved */
	add(c, 7, 0, SIG, 0, 0x219c97a9, 0x0040068c, 0x10);
	add(c, 0xd, 0, SIG, 7, 0x340, 0x340, 0);
	add(c, 0x80000000, 0, 0, 0x80000022, str4("Auth"), str4("cAMD"), str4("enti"));
	/* TOPOEXT (22), PerfCtrCore (23), CmpLegacy (1) clear */
	add(c, 0x80000001, 0, 0, 0x00a20f12, 0, 0x75c237ff & ~2u, 0x2fd3fbff);
	add(c, 0x80000008, 0, 0, 0x00003030, 0x0301d205, 0x0000700f, 0);
	add(c, 0x8000001d, 0, SIG, 0x00004121, 0x01c0003f, 0x3f, 0);
	add(c, 0x8000001d, 1, SIG, 0x00004122, 0x01c0003f, 0x3f, 0);
	add(c, 0x8000001d, 2, SIG, 0x00004143, 0x01c0003f, 0x3ff, 2);
	add(c, 0x8000001d, 3, SIG, 0x0003c163, 0x03c0003f, 0x7fff, 1);
	add(c, 0x8000001d, 4, SIG, 0, 0, 0, 0);
	add(c, 0x8000001e, 0, 0, 0, 0, 0, 0);	/* KVM zeroes it */
	add(c, 0x80000022, 0, 0, 0x3, 0x5, 0, 0);
	return c;
}

static struct kvm_cpuid2 *build(const struct kvm_cpuid2 *sup, unsigned int ncpus,
				unsigned int cpu, unsigned int phys_bits)
{
	struct x86_cpuid_params p = { .ncpus = ncpus, .phys_bits = phys_bits };
	struct kvm_cpuid2 *c;

	err[0] = '\0';
	if (x86_cpuid_vcpu(sup, &p, cpu, &c, err, sizeof(err)))
		fail_msg("x86_cpuid_vcpu(%u of %u): %s", cpu, ncpus, err);
	return c;
}

static const struct kvm_cpuid_entry2 *get(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	const struct kvm_cpuid_entry2 *e = x86_cpuid_find(c, fn, idx);

	if (!e)
		fail_msg("no CPUID leaf 0x%x.%u", fn, idx);
	return e;
}

static unsigned int count(const struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		n += c->entries[i].function == fn;
	return n;
}

/* No two entries answer the same (function, index). */
static void check_unique(const struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++)
		for (uint32_t j = 0; j < i; j++)
			assert_false(c->entries[i].function == c->entries[j].function &&
				     c->entries[i].index == c->entries[j].index);
}

static void check_topology(const struct kvm_cpuid2 *c, uint32_t leaf, unsigned int n,
			   unsigned int cpu, unsigned int order)
{
	const struct kvm_cpuid_entry2 *e;

	assert_int_equal(count(c, leaf), 3);
	e = get(c, leaf, 0);
	assert_int_equal(e->flags & SIG, SIG);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->ecx, 0x100);	/* level 0, SMT */
	assert_int_equal(e->edx, cpu);
	e = get(c, leaf, 1);
	assert_int_equal(e->eax, order);
	assert_int_equal(e->ebx, n);
	assert_int_equal(e->ecx, 0x201);	/* level 1, core */
	assert_int_equal(e->edx, cpu);
	e = get(c, leaf, 2);
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 0);
	assert_int_equal(e->ecx, 2);		/* level 2, invalid: the end */
	assert_int_equal(e->edx, cpu);
}

/* What does not depend on the vendor. */
static void check_common(const struct kvm_cpuid2 *c, unsigned int n, unsigned int cpu,
			 unsigned int phys_bits)
{
	const struct kvm_cpuid_entry2 *e;
	unsigned int order = 0;

	while ((1u << order) < n)
		order++;
	check_unique(c);
	e = get(c, 1, 0);
	assert_int_equal(e->ebx >> 24, cpu);
	assert_int_equal((e->ebx >> 16) & 0xff, 1u << order);
	assert_int_equal(e->ebx & 0xffff, 0x0800);	/* CLFLUSH size kept */
	assert_int_equal(!!(e->edx & (1u << 28)), n > 1);
	assert_true(e->ecx & (1u << 31));		/* hypervisor */
	assert_false(e->ecx & (1u << 15));		/* PDCM */
	assert_false(e->ecx & (1u << 24));		/* no TSC deadline unless asked */
	check_topology(c, 0xb, n, cpu, order);

	e = get(c, KVM_CPUID_SIGNATURE, 0);
	assert_int_equal(e->eax, KVM_CPUID_FEATURES);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_memory_equal(&e->ecx, "VMKV", 4);
	assert_memory_equal(&e->edx, "M\0\0\0", 4);
	e = get(c, KVM_CPUID_FEATURES, 0);
	assert_true(e->eax & (1u << KVM_FEATURE_NOP_IO_DELAY));

	e = get(c, 0x80000008, 0);
	assert_int_equal(e->eax & 0xff, phys_bits);
}

static void test_intel(unsigned int n)
{
	struct kvm_cpuid2 *sup = sup_intel(), *c;
	const struct kvm_cpuid_entry2 *e;
	unsigned int order = 0;

	while ((1u << order) < n)
		order++;
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		c = build(sup, n, cpu, 36);
		check_common(c, n, cpu, 36);
		/* Every leaf kept, 0xb and 0x1f three subleaves each. */
		assert_int_equal(c->nent, sup->nent - 2 + 6);
		check_topology(c, 0x1f, n, cpu, order);

		/* Leaf 4: cores per package; L1/L2 per thread, L3 per package. */
		for (unsigned int i = 0; i < 4; i++) {
			const struct kvm_cpuid_entry2 *h = get(sup, 4, i);

			e = get(c, 4, i);
			assert_int_equal(e->eax >> 26, (1u << order) - 1);
			assert_int_equal((e->eax >> 14) & 0xfff, i == 3 ? (1u << order) - 1 : 0);
			assert_int_equal(e->eax & 0x3fff, h->eax & 0x3fff);
			assert_int_equal(e->ebx, h->ebx);
			assert_int_equal(e->ecx, h->ecx);
			assert_int_equal(e->edx, h->edx);
		}
		e = get(c, 4, 4);
		assert_int_equal(e->eax, 0);

		e = get(c, 0xa, 0);
		assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
		e = get(c, 0x12, 0);
		assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
		e = get(c, 7, 0);
		assert_false(e->ebx & (1u << 2));
		assert_false(e->ecx & (1u << 30));
		assert_int_equal(e->ebx, 0x029c67af & ~(1u << 2));	/* the rest kept */
		assert_int_equal(e->ecx, 0x4);
		assert_int_equal(e->edx, 0xbc000400);

		e = get(c, KVM_CPUID_FEATURES, 0);
		assert_int_equal(e->eax, KVM_FEATURES_HOST | (1u << KVM_FEATURE_NOP_IO_DELAY));
		e = get(c, 0x80000008, 0);
		assert_int_equal(e->eax, 0x3000 | 36);	/* 48 virtual bits kept */
		assert_int_equal(e->ecx, 0);		/* Intel: reserved */
		e = get(c, 0x80000001, 0);
		assert_int_equal(e->ecx, 0x121);	/* no AMD bits on Intel */
		free(c);
	}
	free(sup);
}

static void test_intel_1(void **state)
{
	(void)state;
	test_intel(1);
}

static void test_intel_4(void **state)
{
	(void)state;
	test_intel(4);
}

static void test_intel_3_and_254(void **state)
{
	struct kvm_cpuid2 *sup = sup_intel(), *c;
	const struct kvm_cpuid_entry2 *e;

	(void)state;
	c = build(sup, 3, 2, 39);
	check_common(c, 3, 2, 39);
	e = get(c, 0xb, 1);
	assert_int_equal(e->eax, 2);
	assert_int_equal(e->ebx, 3);
	free(c);

	c = build(sup, 254, 253, 39);
	check_unique(c);
	e = get(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 253);
	assert_int_equal((e->ebx >> 16) & 0xff, 255);	/* 256 does not fit in 8 bits */
	e = get(c, 0xb, 1);
	assert_int_equal(e->eax, 8);
	assert_int_equal(e->ebx, 254);
	assert_int_equal(e->edx, 253);
	e = get(c, 4, 3);
	assert_int_equal(e->eax >> 26, 63);		/* 6 bits at most */
	assert_int_equal((e->eax >> 14) & 0xfff, 255);
	free(c);
	free(sup);
}

static void test_amd(unsigned int n)
{
	struct kvm_cpuid2 *sup = sup_amd(), *c;
	const struct kvm_cpuid_entry2 *e;
	unsigned int order = 0;

	while ((1u << order) < n)
		order++;
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		c = build(sup, n, cpu, 40);
		check_common(c, n, cpu, 40);
		/* 0xb added (leaf 0 reaches it), 0x1f not (leaf 0 stops at 0x10), KVM leaves added. */
		assert_int_equal(count(c, 0x1f), 0);
		assert_int_equal(c->nent, sup->nent + 3 + 2);

		e = get(c, 0x80000001, 0);
		assert_int_equal(!!(e->ecx & (1u << 1)), n > 1);	/* CmpLegacy */
		assert_false(e->ecx & (1u << 23));			/* PerfCtrCore */
		assert_true(e->ecx & (1u << 22));			/* TOPOEXT kept */
		e = get(c, 0x80000008, 0);
		assert_int_equal(e->eax, 0x3000 | 40);
		assert_int_equal(e->ecx, (order << 12) | (n - 1));	/* NC, ApicIdSize */
		assert_int_equal(e->ebx, 0x0301d205);
		for (unsigned int i = 0; i < 4; i++) {
			const struct kvm_cpuid_entry2 *h = get(sup, 0x8000001d, i);

			e = get(c, 0x8000001d, i);
			assert_int_equal((e->eax >> 14) & 0xfff, i == 3 ? (1u << order) - 1 : 0);
			assert_int_equal(e->eax & ~(0xfffu << 14), h->eax & ~(0xfffu << 14));
			assert_int_equal(e->ecx, h->ecx);
		}
		e = get(c, 0x8000001e, 0);
		assert_int_equal(e->eax, cpu);
		assert_int_equal(e->ebx, cpu);		/* core id, one thread per core */
		assert_int_equal(e->ecx, 0);
		e = get(c, 0x80000022, 0);
		assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
		e = get(c, 4, 0);
		assert_int_equal(e->eax, 0);		/* not touched on AMD */
		/* Added when KVM did not list it: only NOP_IO_DELAY is known to be safe. */
		e = get(c, KVM_CPUID_FEATURES, 0);
		assert_int_equal(e->eax, 1u << KVM_FEATURE_NOP_IO_DELAY);
		free(c);
	}
	free(sup);
}

static void test_amd_1(void **state)
{
	(void)state;
	test_amd(1);
}

static void test_amd_4(void **state)
{
	(void)state;
	test_amd(4);
}

static void test_tsc_deadline(void **state)
{
	struct kvm_cpuid2 *sup = sup_intel(), *c;
	struct x86_cpuid_params p = { .ncpus = 2, .phys_bits = 39, .tsc_deadline = true };

	(void)state;
	assert_int_equal(x86_cpuid_vcpu(sup, &p, 1, &c, err, sizeof(err)), 0);
	assert_true(get(c, 1, 0)->ecx & (1u << 24));
	free(c);
	/* Kept when KVM reports it itself (Linux 6.15+). */
	get(sup, 1, 0);
	x86_cpuid_find(sup, 1, 0)->ecx |= 1u << 24;
	p.tsc_deadline = false;
	assert_int_equal(x86_cpuid_vcpu(sup, &p, 1, &c, err, sizeof(err)), 0);
	assert_true(get(c, 1, 0)->ecx & (1u << 24));
	free(c);
	free(sup);
}

static void test_errors(void **state)
{
	struct kvm_cpuid2 *sup = sup_intel(), *c = (void *)1;
	struct x86_cpuid_params p = { .ncpus = 4, .phys_bits = 40 };

	(void)state;
	/* The host has 39 bits. */
	assert_int_equal(x86_cpuid_vcpu(sup, &p, 0, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "phys-bits 40"));
	assert_non_null(strstr(err, "39"));
	assert_int_equal(x86_cpuid_check(sup, &p, err, sizeof(err)), -EINVAL);
	assert_int_equal(x86_cpuid_phys_bits(sup), 39);
	p.phys_bits = 39;
	assert_int_equal(x86_cpuid_check(sup, &p, err, sizeof(err)), 0);

	assert_int_equal(x86_cpuid_vcpu(sup, &p, 4, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vCPU 4"));
	p.ncpus = 0;
	assert_int_equal(x86_cpuid_vcpu(sup, &p, 0, &c, err, sizeof(err)), -EINVAL);
	p.ncpus = 255;
	assert_int_equal(x86_cpuid_vcpu(sup, &p, 0, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cpus 255"));

	/* Without leaf 0x80000008 the host counts as 36 bits. */
	p.ncpus = 1;
	p.phys_bits = 36;
	for (uint32_t i = 0; i < sup->nent; i++)
		if (sup->entries[i].function == 0x80000008)
			sup->entries[i].function = 0x80000007;
	assert_int_equal(x86_cpuid_phys_bits(sup), 36);
	assert_int_equal(x86_cpuid_check(sup, &p, err, sizeof(err)), 0);
	p.phys_bits = 37;
	assert_int_equal(x86_cpuid_check(sup, &p, err, sizeof(err)), -EINVAL);

	/* Leaf 1 is needed. */
	p.phys_bits = 36;
	sup->entries[1].function = 0x7fff;
	assert_int_equal(x86_cpuid_check(sup, &p, err, sizeof(err)), -EINVAL);
	free(sup);
}

static void test_find(void **state)
{
	struct kvm_cpuid2 *sup = sup_intel();

	(void)state;
	/* Index significant: exact; not significant: any index matches. */
	assert_int_equal(get(sup, 4, 2)->eax, 0x1c004143);
	assert_null(x86_cpuid_find(sup, 4, 9));
	assert_int_equal(get(sup, 1, 5)->eax, 0x000906ea);
	assert_null(x86_cpuid_find(sup, 0x4711, 0));
	free(sup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_1),
		cmocka_unit_test(test_intel_4),
		cmocka_unit_test(test_intel_3_and_254),
		cmocka_unit_test(test_amd_1),
		cmocka_unit_test(test_amd_4),
		cmocka_unit_test(test_tsc_deadline),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
