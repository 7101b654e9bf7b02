/*
 * x86/vmlinux: ELF kernels made here, with segments out of order, bss, gaps
 * and a relocation table of each kind: parsed, loaded at a physical address
 * and relocated by a virtual offset exactly as Linux's decompressor would,
 * and every malformed file refused with why.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel_image.h"
#include "x86/vmlinux.h"

#define BASE		ELF_BASE
#define MAP		X86_START_KERNEL_MAP
#define MiB(x)		((uint64_t)(x) << 20)

static char err[512];

/* The byte a segment's file data puts at image offset 'o' (spec order i). */
static int seg_of(const struct elf_spec *s, uint64_t o, unsigned int *which, uint64_t *in)
{
	for (unsigned int i = 0; i < s->nsegs; i++) {
		uint64_t so = s->seg[i].paddr - BASE;

		if (o >= so && o < so + s->seg[i].memsz) {
			*which = i;
			*in = o - so;
			return 1;
		}
	}
	return 0;
}

struct gm {
	struct guest_mem mem;
	uint8_t *ram;
};

static struct gm gm_new(uint64_t size)
{
	struct gm g;

	g.ram = malloc(size);
	assert_non_null(g.ram);
	memset(g.ram, 0xcc, size);
	memset(&g.mem, 0, sizeof(g.mem));
	g.mem.regions[0] = (struct guest_region){ .gpa = 0, .size = size, .hva = g.ram };
	g.mem.nr = 1;
	return g;
}

static void test_parse(void **state)
{
	struct elf_spec s = elf_spec_relocs();
	struct x86_vmlinux vm;
	size_t len;
	uint8_t *f = elf_build(&s, &len);

	(void)state;
	if (x86_vmlinux_parse(f, len, &vm, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(x86_is_elf(f, len));
	assert_int_equal(vm.base, BASE);
	assert_int_equal(vm.size, MiB(3) + 0x6000);
	assert_int_equal(vm.entry, 0x40);
	assert_int_equal(vm.nr_segs, 3);
	/* In address order, whatever the program headers' order. */
	assert_int_equal(vm.segs[0].offset, 0);
	assert_int_equal(vm.segs[1].offset, MiB(2));
	assert_int_equal(vm.segs[2].offset, MiB(3));
	assert_int_equal(vm.segs[2].filesz, 0x2000);
	assert_int_equal(vm.segs[2].memsz, 0x6000);
	assert_non_null(vm.relocs);
	assert_int_equal(vm.nr_relocs[X86_RELOC_64], 2);
	assert_int_equal(vm.nr_relocs[X86_RELOC_32], 1);
	assert_int_equal(vm.nr_relocs[X86_RELOC_32_INV], 1);
	free(f);

	/* No table: a kernel that cannot move virtually. */
	s = elf_spec_default();
	f = elf_build(&s, &len);
	if (x86_vmlinux_parse(f, len, &vm, err, sizeof(err)))
		fail_msg("%s", err);
	assert_null(vm.relocs);
	assert_int_equal(x86_vmlinux_virt_slots(&vm, MiB(64), MiB(2)), 1);
	free(f);

	/* An empty table (three zeros) is a table. */
	s.table = true;
	f = elf_build(&s, &len);
	if (x86_vmlinux_parse(f, len, &vm, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(vm.relocs);
	/* Linux's arithmetic: 1 + (1 GiB - 16 MiB - 64 MiB) / 2 MiB. */
	assert_int_equal(x86_vmlinux_virt_slots(&vm, MiB(64), MiB(2)), 473);
	assert_int_equal(x86_vmlinux_virt_slots(&vm, MiB(1024), MiB(2)), 1);
	free(f);
	assert_false(x86_is_elf("\x7f" "EL", 3));
}

static void check_loaded(const struct elf_spec *s, const uint8_t *img, uint64_t size,
			 uint64_t delta)
{
	for (uint64_t o = 0; o < size; o++) {
		unsigned int i = 0;
		uint64_t in = 0;
		uint8_t want;

		if (!seg_of(s, o, &i, &in)) {
			assert_int_equal(img[o], 0xcc);		/* gaps untouched */
			continue;
		}
		want = in < s->seg[i].filesz ? elf_seg_byte(i, in) : 0;
		if (img[o] == want)
			continue;
		/* Only relocated fields may differ: checked by the caller. */
		if (!delta)
			fail_msg("byte 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)o,
				 img[o], want);
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t orig64(const struct elf_spec *s, uint64_t o)
{
	uint8_t b[8];
	unsigned int i = 0;
	uint64_t in = 0;

	for (unsigned int k = 0; k < 8; k++) {
		assert_true(seg_of(s, o + k, &i, &in));
		b[k] = elf_seg_byte(i, in);
	}
	return get64(b);
}

static void test_load(void **state)
{
	struct elf_spec s = elf_spec_relocs();
	struct gm g = gm_new(MiB(64));
	uint64_t phys = MiB(32), delta = MiB(6);
	struct x86_vmlinux vm;
	const uint8_t *img = g.ram + phys;
	size_t len;
	uint8_t *f = elf_build(&s, &len);

	(void)state;
	assert_int_equal(x86_vmlinux_parse(f, len, &vm, err, sizeof(err)), 0);

	/* As linked: a plain copy, bss zeroed, gaps untouched. */
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, phys, 0, err, sizeof(err)), 0);
	check_loaded(&s, img, vm.size, 0);

	/* Moved: each relocated field by delta, everything else as before. */
	memset(g.ram, 0xcc, MiB(64));
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, phys, delta, err, sizeof(err)), 0);
	check_loaded(&s, img, vm.size, delta);
	assert_int_equal(get64(img + 0x100), orig64(&s, 0x100) + delta);
	assert_int_equal(get64(img + MiB(2) + 0x2ff8), orig64(&s, MiB(2) + 0x2ff8) + delta);
	assert_int_equal(get32(img + 0x200), (uint32_t)orig64(&s, 0x200) + (uint32_t)delta);
	assert_int_equal(get32(img + MiB(3) + 0x10),
			 (uint32_t)orig64(&s, MiB(3) + 0x10) - (uint32_t)delta);
	/* Next to a field: untouched. */
	assert_int_equal(img[0x108], elf_seg_byte(1, 0x108));
	assert_int_equal(img[0x1ff], elf_seg_byte(1, 0x1ff));
	/* bss after the relocated segment's file bytes: zero. */
	assert_int_equal(img[MiB(3) + 0x2000], 0);
	assert_int_equal(img[MiB(3) + 0x5fff], 0);

	/* Where it cannot go. */
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, phys + 0x1000, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, phys, 0x1000, err, sizeof(err)), -EINVAL);
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, MiB(62), 0, err, sizeof(err)), -EFAULT);
	assert_non_null(strstr(err, "guest memory"));
	free(f);

	/* Without a table it only runs where it was linked, virtually. */
	s = elf_spec_default();
	f = elf_build(&s, &len);
	assert_int_equal(x86_vmlinux_parse(f, len, &vm, err, sizeof(err)), 0);
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, phys, MiB(2), err, sizeof(err)), -EINVAL);
	free(f);
	free(g.ram);
}

/* The percpu segment is linked at virtual 0: its relocations name its load address. */
static void test_percpu_segment(void **state)
{
	struct elf_spec s = elf_spec_default();
	struct gm g = gm_new(MiB(64));
	struct x86_vmlinux vm;
	size_t len;
	uint8_t *f;

	(void)state;
	s.seg[0].percpu = true;
	s.table = true;
	s.r64[s.n64++] = elf_kaddr(BASE + MiB(2), 0x20);
	f = elf_build(&s, &len);
	assert_int_equal(x86_vmlinux_parse(f, len, &vm, err, sizeof(err)), 0);
	assert_int_equal(x86_vmlinux_load(&g.mem, &vm, MiB(16), MiB(4), err, sizeof(err)), 0);
	assert_int_equal(get64(g.ram + MiB(16) + MiB(2) + 0x20), orig64(&s, MiB(2) + 0x20) + MiB(4));
	free(f);
	free(g.ram);
}

static void parse_fails(const uint8_t *f, size_t len, const char *needle)
{
	struct x86_vmlinux vm;
	int ret = x86_vmlinux_parse(f, len, &vm, err, sizeof(err));

	if (ret != -EINVAL || !strstr(err, needle))
		fail_msg("expected -EINVAL with \"%s\", got %d: %s", needle, ret, err);
	assert_null(vm.data);
}

static void spec_fails(const struct elf_spec *s, const char *needle)
{
	size_t len;
	uint8_t *f = elf_build(s, &len);

	parse_fails(f, len, needle);
	free(f);
}

static void test_bad_files(void **state)
{
	struct elf_spec s;
	size_t len;
	uint8_t *f;

	(void)state;
	parse_fails((const uint8_t *)"\x7f" "ELF", 4, "not an ELF file");
	s = elf_spec_default();
	s.class = ELFCLASS32;
	spec_fails(&s, "not a 64-bit");
	s = elf_spec_default();
	s.machine = EM_AARCH64;
	spec_fails(&s, "x86-64");
	s = elf_spec_default();
	s.type = ET_DYN;
	spec_fails(&s, "ET_EXEC");
	s = elf_spec_default();
	s.seg[1].filesz = 0x6000;	/* more file than memory */
	spec_fails(&s, "not inside the file");
	s = elf_spec_default();
	s.seg[1].memsz = MiB(2) + 1;	/* runs into the next segment */
	spec_fails(&s, "overlap");
	s = elf_spec_default();
	for (unsigned int i = 0; i < s.nsegs; i++)
		s.seg[i].paddr += 0x1000;	/* not on a 2 MiB boundary */
	s.entry += 0x1000;
	spec_fails(&s, "2 MiB boundary");
	s = elf_spec_default();
	s.seg[0].paddr = BASE + MiB(1100);	/* more than 1 GiB from the base */
	spec_fails(&s, "at most 1 GiB");
	s = elf_spec_default();
	s.entry = BASE + MiB(8);
	spec_fails(&s, "entry point");
	s = elf_spec_default();
	s.nsegs = 0;
	spec_fails(&s, "no loadable");

	/* Headers pointing outside the file. */
	s = elf_spec_default();
	f = elf_build(&s, &len);
	((Elf64_Ehdr *)f)->e_phoff = len - 8;
	parse_fails(f, len, "program headers");
	free(f);
	f = elf_build(&s, &len);
	((Elf64_Ehdr *)f)->e_shoff = len;
	parse_fails(f, len, "section headers");
	free(f);
	f = elf_build(&s, &len);
	{
		Elf64_Phdr *ph = (Elf64_Phdr *)(f + sizeof(Elf64_Ehdr));

		ph[0].p_offset = len - 0x100;	/* its 0x3000 bytes run past the end */
	}
	parse_fails(f, len, "not inside the file");
	free(f);
	/* Cut short: the last segment's bytes are missing. */
	f = elf_build(&s, &len);
	parse_fails(f, len - 0x2000, "");
	free(f);
}

static void test_bad_relocs(void **state)
{
	struct elf_spec s;
	size_t len;
	uint8_t *f;

	(void)state;
	/* Each kind, pointing outside the segments' file bytes. */
	s = elf_spec_relocs();
	s.r64[s.n64++] = elf_kaddr(BASE, 0x5000);		/* just past a segment */
	spec_fails(&s, "64-bit relocation 2");
	s = elf_spec_relocs();
	s.r64[0] = elf_kaddr(BASE + MiB(2), 0x2ffc);	/* 8 bytes, 4 of them past it */
	spec_fails(&s, "64-bit relocation 0");
	s = elf_spec_relocs();
	s.r32[s.n32++] = elf_kaddr(BASE + MiB(3), 0x3000);	/* in bss: no file bytes */
	spec_fails(&s, "32-bit relocation 1");
	s = elf_spec_relocs();
	s.rinv[0] = elf_kaddr(BASE + MiB(1), 0);		/* in the gap */
	spec_fails(&s, "inverse 32-bit relocation 0");
	s = elf_spec_relocs();
	s.r32[0] = 0x7ffff000;				/* not a kernel address */
	spec_fails(&s, "outside the kernel's segments");
	s = elf_spec_relocs();
	s.r32[0] = elf_kaddr(0x400000, 0);			/* below the base */
	spec_fails(&s, "outside the kernel's segments");

	/* Tables that do not end where they should. */
	s = elf_spec_relocs();
	f = elf_build(&s, &len);
	parse_fails(f, len - 2, "not a relocation table");
	free(f);
	f = elf_build(&s, &len);
	{
		/* A word of garbage before the table. */
		uint8_t *g = malloc(len + 4);

		assert_non_null(g);
		memcpy(g, f, len);
		memmove(g + len - 4 * (3 + 4) + 4, g + len - 4 * (3 + 4), 4 * (3 + 4));
		memcpy(g + len - 4 * (3 + 4), "\x01\x02\x03\x04", 4);
		parse_fails(g, len + 4, "between the ELF image and its relocation table");
		free(g);
	}
	free(f);
	/* One terminator gone: the 64-bit list has no end. */
	f = elf_build(&s, &len);
	{
		uint32_t nz = elf_kaddr(BASE, 0x300);

		memcpy(f + len - 4 * (3 + 4), &nz, 4);
		parse_fails(f, len, "no end to its 64-bit entries");
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_percpu_segment),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_relocs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
