/*
 * Tests of the bzImage loader and the boot vCPU state: a synthetic bzImage
 * loaded into fake guest RAM laid out by x86_layout_plan(), the zero page,
 * E820, initrd placement, the page tables walked, the GDT against the
 * segment registers, bad images refused; and Debian's kernel when
 * VMM_TEST_KERNEL names one (VMM_TEST_INITRD: an initrd to load with it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <asm/bootparam.h>

#include "hw/guest_mem.h"
#include "kernel_image.h"
#include "util/unpack.h"
#include "x86/boot.h"
#include "x86/boot_cpu.h"
#include "x86/boot_load.h"
#include "x86/layout.h"

#define SZ_2M	0x200000ULL
#define MiB(x)	((uint64_t)(x) * SZ_1M)

static char err[512];

/* Guest RAM as the plan lays it out, one anonymous mapping per range. */
struct vm {
	struct x86_layout l;
	struct guest_mem mem;
};

static struct vm *vm_new(uint64_t memory)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	assert_non_null(vm);
	if (x86_layout_plan(memory, 40, &vm->l, err, sizeof(err)))
		fail_msg("x86_layout_plan: %s", err);
	for (unsigned int i = 0; i < vm->l.nr_ram; i++) {
		struct guest_region *r = &vm->mem.regions[vm->mem.nr++];
		void *p = mmap(NULL, vm->l.ram[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		assert_true(p != MAP_FAILED);
		r->gpa = vm->l.ram[i].base;
		r->size = vm->l.ram[i].size;
		r->hva = p;
	}
	return vm;
}

static void vm_free(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nr; i++)
		munmap(vm->mem.regions[i].hva, vm->mem.regions[i].size);
	free(vm);
}

static uint8_t *gpa(struct vm *vm, uint64_t addr, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&vm->mem, addr, len);

	assert_non_null(p);
	return p;
}

static int load(struct vm *vm, const uint8_t *k, size_t klen, const void *initrd, size_t ilen,
		const char *cmdline, struct x86_boot_info *bi)
{
	struct x86_boot_kernel bk = { .file = k, .len = klen };

	err[0] = '\0';
	return x86_boot_load(&vm->mem, &vm->l, &bk, initrd, ilen, cmdline,
			     X86_BOOT_ACPI_BASE, bi, err, sizeof(err));
}

static void load_ok(struct vm *vm, const uint8_t *k, size_t klen, const void *initrd,
		    size_t ilen, const char *cmdline, struct x86_boot_info *bi)
{
	if (load(vm, k, klen, initrd, ilen, cmdline, bi))
		fail_msg("x86_boot_load: %s", err);
}

static void load_fails(struct vm *vm, const uint8_t *k, size_t klen, const void *initrd,
		       size_t ilen, const char *cmdline, int expect, const char *needle)
{
	struct x86_boot_info bi;
	int ret = load(vm, k, klen, initrd, ilen, cmdline, &bi);

	if (ret != expect || !strstr(err, needle))
		fail_msg("expected %d with \"%s\", got %d: %s", expect, needle, ret, err);
}

static uint8_t *pattern(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed);
	return p;
}

static int overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* The fixed boot areas: inside E820 RAM below 640 KiB (ACPI: reserved), apart. */
static void test_boot_map(void **state)
{
	static const struct { uint64_t base, size; uint32_t type; } area[] = {
		{ X86_BOOT_GDT, 8 * X86_BOOT_GDT_ENTRIES, E820_RAM },
		{ X86_BOOT_ZERO_PAGE, SZ_4K, E820_RAM },
		{ X86_BOOT_PML4, SZ_4K, E820_RAM },
		{ X86_BOOT_PDPT, SZ_4K, E820_RAM },
		{ X86_BOOT_PD, X86_BOOT_PD_COUNT * SZ_4K, E820_RAM },
		{ X86_BOOT_STACK_BASE, X86_BOOT_STACK_TOP - X86_BOOT_STACK_BASE, E820_RAM },
		{ X86_BOOT_CMDLINE, X86_BOOT_CMDLINE_SIZE, E820_RAM },
		{ X86_BOOT_ACPI_BASE, X86_BOOT_ACPI_SIZE, E820_RESERVED },
	};
	struct x86_layout l;
	unsigned int i, j, e;

	(void)state;
	assert_int_equal(x86_layout_plan(MiB(128), 40, &l, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(area) / sizeof(area[0]); i++) {
		/* 4 KiB aligned, below the kernel, clear of the real-mode IVT/BDA page */
		assert_int_equal(area[i].base % SZ_4K, 0);
		assert_true(area[i].base >= SZ_4K);
		assert_true(area[i].base + area[i].size <= X86_BOOT_KERNEL_MIN);
		/* below the decompressor's trampoline (0x9d000 - 0x9f000) when RAM */
		if (area[i].type == E820_RAM)
			assert_true(area[i].base + area[i].size <= 0x9d000);
		for (j = 0; j < i; j++)
			assert_false(overlaps(area[i].base, area[i].size, area[j].base, area[j].size));
		for (e = 0; e < l.nr_e820; e++)
			if (l.e820[e].addr <= area[i].base &&
			    area[i].base + area[i].size <= l.e820[e].addr + l.e820[e].size)
				break;
		assert_true(e < l.nr_e820);
		assert_int_equal(l.e820[e].type, area[i].type);
	}
	/* The ACPI area is where the legacy RSDP scan looks, and backed by RAM range 0. */
	assert_true(X86_BOOT_ACPI_BASE >= 0xe0000 && X86_BOOT_ACPI_BASE % 64 == 0);
	assert_int_equal(X86_BOOT_ACPI_BASE + X86_BOOT_ACPI_SIZE, 0x100000);
	assert_int_equal(l.ram[0].base, 0);
	assert_true(l.ram[0].size >= X86_BOOT_ACPI_BASE + X86_BOOT_ACPI_SIZE);
}

static void test_load(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(256));
	const char *cmdline = "console=ttyS0 root=/dev/vda rw";
	size_t klen, ilen = MiB(3) + 123;
	uint8_t *k = img_build(&o, &klen), *initrd = pattern(ilen, 5);
	size_t setup = (o.setup_sects + 1) * 512;
	struct x86_boot_info bi;
	struct boot_params *bp;
	uint64_t top;

	(void)state;
	load_ok(vm, k, klen, initrd, ilen, cmdline, &bi);
	/* The kernel runs where it was put: pref_address, 16 MiB. */
	assert_int_equal(bi.kernel_addr, 0x1000000);
	assert_int_equal(bi.kernel_size, o.payload);
	assert_int_equal(bi.entry, 0x1000200);
	assert_int_equal(bi.kernel_end, 0x1000000 + o.init_size);
	assert_int_equal(bi.protocol, 0x020f);
	assert_memory_equal(gpa(vm, bi.kernel_addr, o.payload), k + setup, o.payload);

	/* The initrd at the top of RAM, page-aligned, above the kernel's init_size. */
	top = MiB(256);
	assert_int_equal(bi.initrd_addr, (top - ilen) & ~0xfffULL);
	assert_int_equal(bi.initrd_addr % SZ_4K, 0);
	assert_true(bi.initrd_addr + ilen <= top);
	assert_true(top - (bi.initrd_addr + ilen) < SZ_4K);
	assert_true(bi.initrd_addr >= bi.kernel_end);
	assert_int_equal(bi.initrd_size, ilen);
	assert_memory_equal(gpa(vm, bi.initrd_addr, ilen), initrd, ilen);

	assert_int_equal(bi.cmdline_addr, X86_BOOT_CMDLINE);
	assert_int_equal(bi.cmdline_len, strlen(cmdline));
	assert_string_equal((char *)gpa(vm, X86_BOOT_CMDLINE, strlen(cmdline) + 1), cmdline);
	assert_int_equal(bi.zero_page, X86_BOOT_ZERO_PAGE);
	assert_int_equal(bi.stack_top, X86_BOOT_STACK_TOP);

	bp = (struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	/* The image's header... */
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.setup_sects, o.setup_sects);
	assert_int_equal(bp->hdr.init_size, o.init_size);
	assert_int_equal(bp->hdr.pref_address, o.pref_address);
	assert_int_equal(bp->hdr.kernel_alignment, o.kernel_alignment);
	assert_int_equal(bp->hdr.xloadflags, o.xloadflags);
	assert_int_equal(bp->hdr.cmdline_size, 2047);
	assert_int_equal(bp->hdr.handover_offset, 0x190);
	/* ...and what the loader writes. */
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags & (LOADED_HIGH | KEEP_SEGMENTS | CAN_USE_HEAP),
			 LOADED_HIGH);
	assert_int_equal(bp->hdr.vid_mode, 0xffff);
	assert_int_equal(bp->hdr.code32_start, 0x1000000);
	assert_int_equal(bp->hdr.ramdisk_image, bi.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, ilen);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(bp->hdr.cmd_line_ptr, X86_BOOT_CMDLINE);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->acpi_rsdp_addr, X86_BOOT_ACPI_BASE);
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->screen_info.orig_video_isVGA, 0);

	/* E820 is the plan's, entry by entry. */
	assert_int_equal(bp->e820_entries, vm->l.nr_e820);
	for (unsigned int i = 0; i < vm->l.nr_e820; i++) {
		assert_int_equal(bp->e820_table[i].addr, vm->l.e820[i].addr);
		assert_int_equal(bp->e820_table[i].size, vm->l.e820[i].size);
		assert_int_equal(bp->e820_table[i].type, vm->l.e820[i].type);
	}
	/* Low RAM, where the boot data lies, ends at 640 KiB. */
	{
		unsigned int i;

		for (i = 0; i < bp->e820_entries; i++)
			if (bp->e820_table[i].addr <= X86_BOOT_GDT &&
			    X86_BOOT_GDT < bp->e820_table[i].addr + bp->e820_table[i].size)
				break;
		assert_true(i < bp->e820_entries);
		assert_int_equal(bp->e820_table[i].addr + bp->e820_table[i].size, 0xa0000);
		assert_int_equal(bp->e820_table[i].type, E820_RAM);
	}
	for (unsigned int i = vm->l.nr_e820; i < E820_MAX_ENTRIES_ZEROPAGE; i++)
		assert_int_equal(bp->e820_table[i].size, 0);

	free(k);
	free(initrd);
	vm_free(vm);
}

/* Loaded again over a dirty zero page, nothing of the old one is left. */
static void test_load_twice(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	size_t klen;
	uint8_t *k = img_build(&o, &klen);
	struct x86_boot_info bi;
	struct boot_params *bp;

	(void)state;
	memset(gpa(vm, X86_BOOT_ZERO_PAGE, SZ_4K), 0xa5, SZ_4K);
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	bp = (struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->_pad9[0], 0);
	assert_int_equal(bi.initrd_addr, 0);
	assert_int_equal(bi.cmdline_len, 0);
	assert_int_equal(*gpa(vm, X86_BOOT_CMDLINE, 1), 0);
	free(k);
	vm_free(vm);
}

/* setup_sects 0 means 4; the header ends where byte 0x201 says. */
static void test_setup_sects_zero(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	size_t klen;
	uint8_t *k;

	(void)state;
	o.setup_sects = 0;
	o.hdr_len = 0x62;		/* up to init_size (protocol 2.10's header) */
	k = img_build(&o, &klen);
	assert_int_equal(klen, 5 * 512 + o.payload);
	load_ok(vm, k, klen, NULL, 0, "", &bi);
	assert_memory_equal(gpa(vm, bi.kernel_addr, o.payload), k + 5 * 512, o.payload);
	/* Bytes past the declared header end are not copied. */
	assert_int_equal(((struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, SZ_4K))->hdr.handover_offset, 0);
	assert_int_equal(((struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, SZ_4K))->hdr.init_size,
			 o.init_size);
	free(k);
	vm_free(vm);
}

/* A kernel that is not relocatable is loaded at 1 MiB and runs at pref_address. */
static void test_not_relocatable(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	size_t klen, ilen = 4096;
	uint8_t *k, *initrd = pattern(ilen, 1);

	(void)state;
	o.relocatable = 0;
	o.kernel_alignment = 0x300000;		/* ignored when not relocatable */
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, initrd, ilen, NULL, &bi);
	assert_int_equal(bi.kernel_addr, 0x100000);
	assert_int_equal(bi.entry, 0x100200);
	assert_int_equal(bi.kernel_end, 0x1000000 + o.init_size);
	assert_true(bi.initrd_addr >= bi.kernel_end);
	free(k);
	free(initrd);
	vm_free(vm);
}

/* A relocatable kernel's load address: pref_address aligned up, at least 1 MiB. */
static void test_alignment(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	size_t klen;
	uint8_t *k;

	(void)state;
	o.pref_address = 0x1100000;
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	assert_int_equal(bi.kernel_addr, 0x1200000);
	assert_int_equal(bi.kernel_end, 0x1200000 + o.init_size);
	free(k);

	o.pref_address = 0;
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	assert_int_equal(bi.kernel_addr, SZ_2M);
	free(k);

	/* init_size smaller than the file: the copy is what counts. */
	o.pref_address = 0x1000000;
	o.init_size = 0x1000;
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	assert_int_equal(bi.kernel_end, 0x1000000 + o.payload);
	free(k);
	vm_free(vm);
}

/* initrd_addr_max below the end of RAM is the initrd's ceiling. */
static void test_initrd_addr_max(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(256));
	struct x86_boot_info bi;
	size_t klen, ilen = MiB(1) + 1;
	uint8_t *k, *initrd = pattern(ilen, 9);

	(void)state;
	o.initrd_addr_max = 0x4ffffff;		/* 80 MiB - 1 */
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, initrd, ilen, NULL, &bi);
	assert_int_equal(bi.initrd_addr, (0x5000000 - ilen) & ~0xfffULL);
	assert_true(bi.initrd_addr + ilen - 1 <= o.initrd_addr_max);
	assert_true(bi.initrd_addr >= bi.kernel_end);
	free(k);
	free(initrd);
	vm_free(vm);
}

/* With 4 GiB and more, the initrd stays under the 3 GiB hole. */
static void test_initrd_below_hole(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(6144));
	struct x86_boot_info bi;
	size_t klen, ilen = 12345;
	uint8_t *k, *initrd = pattern(ilen, 2);

	(void)state;
	o.initrd_addr_max = 0xffffffff;
	k = img_build(&o, &klen);
	load_ok(vm, k, klen, initrd, ilen, NULL, &bi);
	assert_int_equal(bi.initrd_addr, (0xc0000000 - ilen) & ~0xfffULL);
	free(k);
	free(initrd);
	vm_free(vm);
}

static void test_initrd_too_large(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(64));
	size_t klen, ilen;
	uint8_t *k = img_build(&o, &klen), *initrd;

	(void)state;
	/* The kernel claims up to 48 MiB: 16 MiB are left. */
	ilen = MiB(16);
	initrd = pattern(ilen, 3);
	load_fails(vm, k, klen, initrd, ilen + 1, NULL, -ENOSPC, "initrd: ");
	load_fails(vm, k, klen, initrd, ilen + 1, NULL, -ENOSPC, "16 MiB are free");
	{
		struct x86_boot_info bi;

		load_ok(vm, k, klen, initrd, ilen, NULL, &bi);
		assert_int_equal(bi.initrd_addr, MiB(48));
	}
	free(k);
	free(initrd);
	vm_free(vm);
}

static void test_cmdline_limit(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	char line[300];
	size_t klen;
	uint8_t *k;

	(void)state;
	o.cmdline_size = 255;
	k = img_build(&o, &klen);
	memset(line, 'x', 255);
	line[255] = '\0';
	load_ok(vm, k, klen, NULL, 0, line, &bi);
	assert_int_equal(bi.cmdline_len, 255);
	assert_int_equal(*gpa(vm, X86_BOOT_CMDLINE + 255, 1), 0);
	line[255] = 'y';
	line[256] = '\0';
	load_fails(vm, k, klen, NULL, 0, line, -EINVAL, "cmdline: 256 bytes");
	load_fails(vm, k, klen, NULL, 0, line, -EINVAL, "limit of 255");
	free(k);
	vm_free(vm);
}

static void test_ram_too_small(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(40));
	size_t klen;
	uint8_t *k = img_build(&o, &klen);

	(void)state;
	/* 16 MiB + 32 MiB of init_size do not fit in 40 MiB. */
	load_fails(vm, k, klen, NULL, 0, NULL, -ENOSPC, "init_size 0x2000000");
	load_fails(vm, k, klen, NULL, 0, NULL, -ENOSPC, "at least 48 MiB");
	free(k);
	vm_free(vm);
	/* Exactly enough. */
	vm = vm_new(MiB(48));
	k = img_build(&o, &klen);
	{
		struct x86_boot_info bi;

		load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	}
	free(k);
	vm_free(vm);
}

static void bad_image(struct vm *vm, const struct img_opts *o,
		      void (*patch)(uint8_t *k, size_t *klen), const char *needle)
{
	size_t klen;
	uint8_t *k = img_build(o, &klen);

	if (patch)
		patch(k, &klen);
	load_fails(vm, k, klen, NULL, 0, NULL, -EINVAL, needle);
	free(k);
}

static void patch_magic(uint8_t *k, size_t *klen)
{
	memcpy(k + 0x202, "HdrT", 4);
}

static void patch_boot_flag(uint8_t *k, size_t *klen)
{
	k[0x1fe] = 0;
}

static void patch_truncate_hdr(uint8_t *k, size_t *klen)
{
	*klen = 0x240;
}

static void patch_tiny(uint8_t *k, size_t *klen)
{
	*klen = 0x100;
}

static void patch_truncate_setup(uint8_t *k, size_t *klen)
{
	*klen = 20 * 512;
}

static void patch_setup_sects(uint8_t *k, size_t *klen)
{
	k[0x1f1] = 200;			/* 201 sectors: past the end of the file */
}

static void test_bad_images(void **state)
{
	struct vm *vm = vm_new(MiB(128));
	struct img_opts o;

	(void)state;
	o = img_default();
	bad_image(vm, &o, patch_magic, "neither a bzImage");
	bad_image(vm, &o, patch_boot_flag, "neither a bzImage");
	bad_image(vm, &o, patch_tiny, "too small");
	bad_image(vm, &o, patch_truncate_hdr, "truncated");
	bad_image(vm, &o, patch_truncate_setup, "truncated: 27 setup sectors");
	o.version = 0x020b;
	bad_image(vm, &o, NULL, "boot protocol 2.11 is too old");
	o = img_default();
	o.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	bad_image(vm, &o, NULL, "XLF_KERNEL_64");
	o = img_default();
	bad_image(vm, &o, patch_setup_sects, "truncated: 200 setup sectors");
	o = img_default();
	o.syssize = (uint32_t)(o.payload / 16) + 1;
	bad_image(vm, &o, NULL, "(syssize)");
	o = img_default();
	o.kernel_alignment = 0x300000;
	bad_image(vm, &o, NULL, "not a power of two");
	o = img_default();
	o.hdr_len = 0x40;		/* ends before init_size */
	bad_image(vm, &o, NULL, "before init_size");
	o = img_default();
	o.relocatable = 0;
	o.pref_address = 0x80000;
	bad_image(vm, &o, NULL, "below 1 MiB");
	o = img_default();
	o.pref_address = 0x100000000ULL;
	bad_image(vm, &o, NULL, "above 4 GiB");
	vm_free(vm);
}

/* An unpacked kernel: what the loader places, and where KASLR may put it. */
struct unpacked {
	uint8_t *bz, *elf;
	size_t bzlen, elflen;
	struct x86_vmlinux vm;
};

static void unpacked_new(struct unpacked *u, const struct elf_spec *es, const struct img_opts *o)
{
	u->elf = elf_build(es, &u->elflen);
	if (x86_vmlinux_parse(u->elf, u->elflen, &u->vm, err, sizeof(err)))
		fail_msg("x86_vmlinux_parse: %s", err);
	u->bz = img_build(o, &u->bzlen);
}

static void unpacked_free(struct unpacked *u)
{
	free(u->bz);
	free(u->elf);
}

static int load_unpacked(struct vm *vm, const struct unpacked *u, bool elf_file,
			 uint64_t r0, uint64_t r1, const void *initrd, size_t ilen,
			 const char *cmdline, struct x86_boot_info *bi)
{
	struct x86_boot_kernel bk = {
		.file = elf_file ? u->elf : u->bz,
		.len = elf_file ? u->elflen : u->bzlen,
		.vmlinux = &u->vm,
		.random = { r0, r1 },
	};

	err[0] = '\0';
	return x86_boot_load(&vm->mem, &vm->l, &bk, initrd, ilen, cmdline, X86_BOOT_ACPI_BASE,
			     bi, err, sizeof(err));
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The bytes of the ELF's segments, at their offsets from phys, relocated by delta. */
static void check_kernel_bytes(struct vm *vm, const struct unpacked *u, uint64_t phys,
			       uint64_t delta)
{
	const uint8_t *img = gpa(vm, phys, u->vm.size);
	uint64_t field = ELF_BASE + 0x100 - u->vm.base;	/* a 64-bit relocation's place */

	/*
	 * Between the relocated fields (elf_spec_relocs() puts them in the
	 * first 0x400 bytes of a segment and its last 8): the file's bytes.
	 */
	for (unsigned int i = 0; i < u->vm.nr_segs; i++) {
		const struct x86_vmlinux_seg *sg = &u->vm.segs[i];

		assert_memory_equal(img + sg->offset + 0x400, u->elf + sg->file_offset + 0x400,
				    sg->filesz - 0x400 - 8);
	}
	assert_int_equal(rd64(img + field), rd64(u->elf + u->vm.segs[0].file_offset + 0x100) + delta);
}

static void test_unpacked_kaslr(void **state)
{
	struct elf_spec es = elf_spec_relocs();
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(512));
	size_t ilen = MiB(8) + 77;
	uint8_t *initrd = pattern(ilen, 9);
	struct x86_boot_info bi;
	struct boot_params *bp;
	struct unpacked u;
	uint64_t span = o.init_size, lo = 0x1000000, slots;

	(void)state;
	unpacked_new(&u, &es, &o);
	if (load_unpacked(vm, &u, false, 12345, 678, initrd, ilen, "console=ttyS0", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_true(bi.unpacked);
	assert_true(bi.kaslr);
	/* The initrd at the top; the kernel's places from pref_address up to it. */
	assert_int_equal(bi.initrd_addr, (MiB(512) - ilen) & ~0xfffULL);
	assert_memory_equal(gpa(vm, bi.initrd_addr, ilen), initrd, ilen);
	slots = (bi.initrd_addr - lo - span) / SZ_2M + 1;
	assert_int_equal(bi.phys_slots, slots);
	assert_int_equal(bi.kernel_addr, lo + 12345 % slots * SZ_2M);
	assert_true(bi.kernel_addr + span <= bi.initrd_addr);
	assert_int_equal(bi.kernel_end, bi.kernel_addr + span);
	assert_int_equal(bi.entry, bi.kernel_addr + 0x40);
	/* Linux's own arithmetic for the virtual offset: 2 MiB steps in 1 GiB. */
	assert_int_equal(bi.virt_slots, 1 + (SZ_1G - ELF_BASE - span) / SZ_2M);
	assert_int_equal(bi.virt_delta, 678 % bi.virt_slots * SZ_2M);
	check_kernel_bytes(vm, &u, bi.kernel_addr, bi.virt_delta);
	/* The kernel is told its placement was randomized. */
	bp = (struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->hdr.loadflags & (LOADED_HIGH | KASLR_FLAG), LOADED_HIGH | KASLR_FLAG);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.init_size, o.init_size);
	assert_int_equal(bp->hdr.code32_start, bi.kernel_addr);
	assert_int_equal(bp->hdr.ramdisk_image, bi.initrd_addr);

	/* The last of each: as high and as far as it may go. */
	memset(gpa(vm, lo, MiB(400)), 0, MiB(400));
	if (load_unpacked(vm, &u, false, slots - 1, bi.virt_slots - 1, initrd, ilen, NULL, &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_int_equal(bi.kernel_addr, lo + (slots - 1) * SZ_2M);
	assert_true(bi.kernel_addr + span <= bi.initrd_addr);
	assert_true(ELF_BASE + bi.virt_delta + span <= SZ_1G);
	check_kernel_bytes(vm, &u, bi.kernel_addr, bi.virt_delta);

	/* nokaslr: where it was linked, as the kernel's decompressor does. */
	if (load_unpacked(vm, &u, false, 12345, 678, initrd, ilen, "quiet nokaslr console=ttyS0", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_false(bi.kaslr);
	assert_int_equal(bi.kernel_addr, lo);
	assert_int_equal(bi.virt_delta, 0);
	check_kernel_bytes(vm, &u, lo, 0);
	assert_int_equal(bp->hdr.loadflags & KASLR_FLAG, 0);
	/* Only the word itself counts. */
	if (load_unpacked(vm, &u, false, 12345, 678, initrd, ilen, "nokaslrx", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_true(bi.kaslr);

	/* Without an initrd the kernel may go up to the end of low RAM. */
	if (load_unpacked(vm, &u, false, 0, 0, NULL, 0, NULL, &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_int_equal(bi.phys_slots, (MiB(512) - lo - span) / SZ_2M + 1);
	assert_int_equal(bi.initrd_addr, 0);

	unpacked_free(&u);
	free(initrd);
	vm_free(vm);
}

/* An ELF vmlinux given as the kernel: runs where it was linked, header made up. */
static void test_elf_kernel(void **state)
{
	struct elf_spec es = elf_spec_default();
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(256));
	size_t ilen = MiB(2);
	uint8_t *initrd = pattern(ilen, 3);
	struct x86_boot_info bi;
	struct boot_params *bp;
	struct unpacked u;

	(void)state;
	unpacked_new(&u, &es, &o);
	if (load_unpacked(vm, &u, true, 999, 999, initrd, ilen, "console=ttyS0", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_true(bi.unpacked);
	/* No relocation table, no setup header: nothing to randomize. */
	assert_false(bi.kaslr);
	assert_int_equal(bi.phys_slots, 1);
	assert_int_equal(bi.virt_slots, 1);
	assert_int_equal(bi.kernel_addr, ELF_BASE);
	assert_int_equal(bi.virt_delta, 0);
	assert_int_equal(bi.entry, ELF_BASE + 0x40);
	assert_memory_equal(gpa(vm, ELF_BASE, 0x5000), u.elf + u.vm.segs[0].file_offset, 0x5000);
	assert_true(bi.initrd_addr >= ELF_BASE + u.vm.size);
	bp = (struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags, LOADED_HIGH);
	assert_int_equal(bp->hdr.cmdline_size, 2047);
	assert_int_equal(bp->hdr.ramdisk_image, bi.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, ilen);
	assert_int_equal(bp->hdr.cmd_line_ptr, X86_BOOT_CMDLINE);
	unpacked_free(&u);

	/* With a relocation table it moves virtually, not physically. */
	es = elf_spec_relocs();
	unpacked_new(&u, &es, &o);
	if (load_unpacked(vm, &u, true, 999, 999, initrd, ilen, NULL, &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_true(bi.kaslr);
	assert_int_equal(bi.kernel_addr, ELF_BASE);
	assert_int_equal(bi.virt_delta, 999 % bi.virt_slots * SZ_2M);
	check_kernel_bytes(vm, &u, ELF_BASE, bi.virt_delta);
	assert_int_equal(bp->hdr.loadflags & KASLR_FLAG, KASLR_FLAG);

	/* Linked where the boot data lie, or above 4 GiB: refused, not loaded. */
	{
		struct elf_spec low = elf_spec_default();
		struct unpacked ul;

		for (unsigned int i = 0; i < low.nsegs; i++)
			low.seg[i].paddr -= ELF_BASE;	/* from 0 */
		low.entry -= ELF_BASE;
		unpacked_new(&ul, &low, &o);
		assert_int_equal(load_unpacked(vm, &ul, true, 0, 0, NULL, 0, NULL, &bi), -EINVAL);
		assert_non_null(strstr(err, "outside [1 MiB, 4 GiB)"));
		unpacked_free(&ul);
		o.pref_address = 0xffffffffffe00000ULL;
		unpacked_new(&ul, &es, &o);
		assert_int_equal(load_unpacked(vm, &ul, false, 0, 0, initrd, ilen, NULL, &bi), -EINVAL);
		assert_non_null(strstr(err, "above 4 GiB"));
		unpacked_free(&ul);
		o = img_default();
	}

	/* Without the parsed kernel, an ELF file cannot be placed. */
	{
		struct x86_boot_kernel bk = { .file = u.elf, .len = u.elflen };

		assert_int_equal(x86_boot_load(&vm->mem, &vm->l, &bk, NULL, 0, NULL, 0, &bi,
					       err, sizeof(err)), -EINVAL);
	}
	unpacked_free(&u);
	free(initrd);
	vm_free(vm);
}

static void test_unpacked_no_room(void **state)
{
	struct elf_spec es = elf_spec_relocs();
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(64));
	struct x86_boot_info bi;
	struct unpacked u;
	uint8_t *initrd = pattern(MiB(20), 1);

	(void)state;
	/* 16 MiB + 32 MiB of init_size fit in 64 MiB; a 20 MiB initrd does not. */
	unpacked_new(&u, &es, &o);
	assert_int_equal(load_unpacked(vm, &u, false, 1, 1, initrd, MiB(20), NULL, &bi), -ENOSPC);
	assert_non_null(strstr(err, "initrd: "));
	assert_int_equal(load_unpacked(vm, &u, false, 1, 1, initrd, MiB(10), NULL, &bi), 0);
	/* Between 16 MiB and the initrd at 54 MiB: 16, 18, 20 or 22 MiB. */
	assert_int_equal(bi.initrd_addr, MiB(54));
	assert_int_equal(bi.phys_slots, 4);
	assert_int_equal(bi.kernel_addr, MiB(18));
	unpacked_free(&u);
	/* A kernel that needs more than there is. */
	o.init_size = MiB(60);
	unpacked_new(&u, &es, &o);
	assert_int_equal(load_unpacked(vm, &u, false, 1, 1, NULL, 0, NULL, &bi), -ENOSPC);
	assert_non_null(strstr(err, "kernel: needs guest RAM up to 0x4c00000"));
	unpacked_free(&u);
	free(initrd);
	vm_free(vm);
}

static void test_cmdline_has(void **state)
{
	(void)state;
	assert_true(x86_cmdline_has("nokaslr", "nokaslr"));
	assert_true(x86_cmdline_has("a nokaslr b", "nokaslr"));
	assert_true(x86_cmdline_has("a\tnokaslr", "nokaslr"));
	assert_false(x86_cmdline_has("nokaslr=1", "nokaslr"));
	assert_false(x86_cmdline_has("xnokaslr nokaslry", "nokaslr"));
	assert_false(x86_cmdline_has("", "nokaslr"));
	assert_false(x86_cmdline_has(NULL, "nokaslr"));
}

static void test_cmdline_mem(void **state)
{
	struct x86_mem_avoid a;
	const char *end;

	(void)state;
	assert_int_equal(x86_memparse("12", &end), 12);
	assert_int_equal(x86_memparse("512k", &end), 512 * 1024);
	assert_int_equal(x86_memparse("1M$0x8000000", &end), SZ_1M);
	assert_int_equal(*end, '$');
	assert_int_equal(x86_memparse("0x8000000", &end), 0x8000000);
	assert_int_equal(x86_memparse("4G", &end), SZ_4G);
	assert_int_equal(x86_memparse("2T", &end), 2ULL << 40);
	assert_int_equal(x86_memparse("010", &end), 8);

	x86_cmdline_mem(NULL, &a);
	assert_int_equal(a.limit, UINT64_MAX);
	assert_int_equal(a.nr, 0);
	x86_cmdline_mem("console=ttyS0 memmap=1M$0x8000000 quiet", &a);
	assert_int_equal(a.nr, 1);
	assert_int_equal(a.regions[0].base, 0x8000000);
	assert_int_equal(a.regions[0].size, SZ_1M);
	assert_int_equal(a.limit, UINT64_MAX);
	assert_true(x86_mem_avoid_hits(&a, 0x8000000 - 0x1000, 0x1001));
	assert_false(x86_mem_avoid_hits(&a, 0x8000000 - 0x1000, 0x1000));
	assert_false(x86_mem_avoid_hits(&a, 0x8100000, 0x1000));
	/* Lists, each kind of region, usable ranges, exactmap, limits. */
	x86_cmdline_mem("memmap=exactmap,640K@0,255M@1M memmap=16K#0x1000,1M!2G mem=3G memmap=2G", &a);
	assert_int_equal(a.nr, 2);
	assert_int_equal(a.regions[0].base, 0x1000);
	assert_int_equal(a.regions[0].size, 16 * 1024);
	assert_int_equal(a.regions[1].base, 2 * SZ_1G);
	assert_int_equal(a.regions[1].size, SZ_1M);
	assert_int_equal(a.limit, 2 * SZ_1G);
	assert_false(a.too_many);
	x86_cmdline_mem("mem=nopentium mem= memmap= memmap=junk", &a);
	assert_int_equal(a.limit, UINT64_MAX);
	assert_int_equal(a.nr, 0);
	/* Digits or nothing: no sign, no blank, no missing start. */
	assert_int_equal(x86_memparse("-1M", &end), 0);
	assert_int_equal(*end, '-');
	assert_int_equal(x86_memparse(" 5", &end), 0);
	x86_cmdline_mem("memmap=-1M$16M memmap=64M$ 512M memmap=4M#x", &a);
	assert_int_equal(a.nr, 0);
	assert_int_equal(a.limit, UINT64_MAX);
	/* More than Linux's decompressor keeps track of. */
	x86_cmdline_mem("memmap=1M$16M,1M$32M,1M$48M memmap=1M$64M memmap=1M$80M", &a);
	assert_int_equal(a.nr, X86_CMDLINE_MAX_MEMMAP);
	assert_true(a.too_many);
}

/* KASLR and the initrd stay clear of memmap= regions and below mem=, as Linux's would. */
static void test_unpacked_avoids(void **state)
{
	struct elf_spec es = elf_spec_relocs();
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(256));
	size_t ilen = MiB(4);
	uint8_t *initrd = pattern(ilen, 2);
	struct x86_boot_info bi;
	struct unpacked u;
	uint64_t free_slots, all_slots, seen_lo = UINT64_MAX, seen_hi = 0;

	(void)state;
	o.init_size = MiB(16);
	unpacked_new(&u, &es, &o);
	if (load_unpacked(vm, &u, false, 0, 0, initrd, ilen, NULL, &bi))
		fail_msg("x86_boot_load: %s", err);
	all_slots = bi.phys_slots;
	/* 1 MiB reserved at 128 MiB: no place that covers it, whatever the dice. */
	for (uint64_t r = 0; r < 3 * all_slots; r++) {
		if (load_unpacked(vm, &u, false, r, r, initrd, ilen, "memmap=1M$0x8000000", &bi))
			fail_msg("x86_boot_load: %s", err);
		assert_false(bi.kernel_addr < MiB(129) && MiB(128) < bi.kernel_end);
		if (bi.kernel_addr < seen_lo)
			seen_lo = bi.kernel_addr;
		if (bi.kernel_addr > seen_hi)
			seen_hi = bi.kernel_addr;
	}
	free_slots = bi.phys_slots;
	/* 16 MiB spans: the places from 114 to 128 MiB are gone (8 of them). */
	assert_int_equal(free_slots, all_slots - 8);
	assert_int_equal(seen_lo, MiB(16));
	assert_true(seen_hi > MiB(129));

	/* mem=: everything below it. */
	for (uint64_t r = 0; r < 40; r++) {
		if (load_unpacked(vm, &u, false, r, r, initrd, ilen, "mem=96M", &bi))
			fail_msg("x86_boot_load: %s", err);
		assert_true(bi.initrd_addr + ilen <= MiB(96));
		assert_true(bi.kernel_end <= bi.initrd_addr);
	}
	assert_int_equal(bi.phys_slots, (MiB(92) - MiB(16) - MiB(16)) / SZ_2M + 1);

	/* A region at the top of RAM: the initrd goes below it. */
	if (load_unpacked(vm, &u, false, 5, 5, initrd, ilen, "memmap=8M$0xf800000", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_int_equal(bi.initrd_addr, MiB(248) - ilen);

	/* Too many regions: Linux's decompressor would not move it; nor do we. */
	if (load_unpacked(vm, &u, false, 5, 5, initrd, ilen,
			  "memmap=1M$200M,1M$201M,1M$202M,1M$203M,1M$204M", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_int_equal(bi.kernel_addr, MiB(16));
	assert_int_equal(bi.phys_slots, 1);
	assert_int_equal(bi.virt_delta, 5 % bi.virt_slots * SZ_2M);
	assert_true(bi.kaslr);

	/* A 16 MiB kernel_alignment: both its places and offsets 16 MiB apart. */
	{
		struct img_opts o16 = o;
		struct unpacked u16;

		o16.kernel_alignment = 0x1000000;
		unpacked_new(&u16, &es, &o16);
		for (uint64_t r = 1; r < 12; r++) {
			if (load_unpacked(vm, &u16, false, r * 7, r * 5, initrd, ilen, NULL, &bi))
				fail_msg("x86_boot_load: %s", err);
			assert_int_equal(bi.kernel_addr % 0x1000000, 0);
			assert_int_equal(bi.virt_delta % 0x1000000, 0);
		}
		assert_int_equal(bi.virt_slots, 1 + (SZ_1G - ELF_BASE - MiB(16)) / MiB(16));
		unpacked_free(&u16);
	}

	/* Nowhere clear: where it was meant to run, as the decompressor would. */
	if (load_unpacked(vm, &u, false, 5, 5, initrd, ilen, "memmap=250M$1M", &bi))
		fail_msg("x86_boot_load: %s", err);
	assert_int_equal(bi.kernel_addr, MiB(16));
	unpacked_free(&u);

	/* The bzImage's own decompressor: its initrd is kept clear too. */
	{
		size_t klen;
		uint8_t *k = img_build(&o, &klen);

		load_ok(vm, k, klen, initrd, ilen, "memmap=8M$0xf800000 mem=200M", &bi);
		assert_int_equal(bi.initrd_addr, MiB(200) - ilen);
		load_ok(vm, k, klen, initrd, ilen, "memmap=100M$0x9c00000", &bi);
		assert_int_equal(bi.initrd_addr, MiB(156) - ilen);
		load_fails(vm, k, klen, initrd, ilen, "memmap=230M$0x1a00000", -ENOSPC,
			   "around the memmap= regions");
		free(k);
	}
	free(initrd);
	vm_free(vm);
}

static void test_payload(void **state)
{
	static const uint8_t data[] = "\xfd" "7zXZ compressed bytes, then the size: \x78\x56\x34\x12";
	struct img_opts o = img_default();
	struct x86_bzimage img;
	const void *p;
	size_t klen, plen, ulen;
	uint8_t *k;

	(void)state;
	o.data = data;
	o.data_len = sizeof(data) - 1;
	k = img_build(&o, &klen);
	assert_int_equal(x86_bzimage_parse(k, klen, &img, err, sizeof(err)), 0);
	assert_int_equal(x86_bzimage_payload(&img, &p, &plen, &ulen, err, sizeof(err)), 0);
	assert_ptr_equal(p, k + (o.setup_sects + 1) * 512 + IMG_STUB);
	assert_int_equal(plen, sizeof(data) - 1);
	assert_int_equal(ulen, 0x12345678);
	/* Its length running past the file's end. */
	assert_int_equal(x86_bzimage_parse(k, klen - 1, &img, err, sizeof(err)), 0);
	assert_int_equal(x86_bzimage_payload(&img, &p, &plen, &ulen, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "runs past the file's end"));
	free(k);
	/* A header that does not say where it is. */
	o = img_default();
	k = img_build(&o, &klen);
	assert_int_equal(x86_bzimage_parse(k, klen, &img, err, sizeof(err)), 0);
	assert_int_equal(x86_bzimage_payload(&img, &p, &plen, &ulen, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not say where"));
	free(k);
}

/* Walk the tables from CR3 as the MMU would (4-level, 4 KiB/2 MiB/1 GiB pages). */
static int translate(struct vm *vm, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t table = cr3 & ~0xfffULL;
	static const unsigned int shift[] = { 39, 30, 21, 12 };

	for (unsigned int level = 0; level < 4; level++) {
		uint64_t e;

		memcpy(&e, gpa(vm, table + ((va >> shift[level]) & 511) * 8, 8), 8);
		if (!(e & 1))
			return -1;
		if (!(e & 2))
			return -2;		/* not writable */
		if (e & 4)
			return -3;		/* user */
		if (level == 3 || ((level == 1 || level == 2) && (e & 0x80))) {
			uint64_t mask = (1ULL << shift[level]) - 1;

			*pa = (e & 0x000ffffffffff000ULL & ~mask) | (va & mask);
			return 0;
		}
		table = e & 0x000ffffffffff000ULL;
	}
	return -1;
}

static void test_page_tables(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	struct kvm_sregs s;
	size_t klen;
	uint8_t *k = img_build(&o, &klen);
	static const uint64_t va[] = {
		0, 0x1234, X86_BOOT_ZERO_PAGE, X86_BOOT_STACK_TOP - 8, X86_BOOT_CMDLINE,
		0x1000200, 0x1fffff, 0x200000, 0x7654321, 0xbfffffff, 0xc0000000,
		0xfee00000, 0xffffffff,
	};
	uint64_t pa;

	(void)state;
	memset(gpa(vm, X86_BOOT_PML4, 0x6000), 0xff, 0x6000);	/* stale tables */
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	memset(&s, 0, sizeof(s));
	x86_boot_sregs(&s);
	for (unsigned int i = 0; i < sizeof(va) / sizeof(va[0]); i++) {
		pa = ~0ULL;
		assert_int_equal(translate(vm, s.cr3, va[i], &pa), 0);
		assert_int_equal(pa, va[i]);
	}
	for (uint64_t a = 0; a < SZ_4G; a += SZ_2M + SZ_4K) {
		assert_int_equal(translate(vm, s.cr3, a, &pa), 0);
		assert_int_equal(pa, a);
	}
	/* Nothing above 4 GiB, nothing in the upper half. */
	assert_int_equal(translate(vm, s.cr3, SZ_4G, &pa), -1);
	assert_int_equal(translate(vm, s.cr3, 0x8000000000ULL, &pa), -1);
	assert_int_equal(translate(vm, s.cr3, 0xffffffff80000000ULL, &pa), -1);
	free(k);
	vm_free(vm);
}

struct desc {
	uint32_t base, limit;
	unsigned int type, s, dpl, p, avl, l, db, g;
};

static struct desc desc_decode(uint64_t d)
{
	struct desc r = {
		.base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24),
		.limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16),
		.type = (d >> 40) & 0xf, .s = (d >> 44) & 1, .dpl = (d >> 45) & 3,
		.p = (d >> 47) & 1, .avl = (d >> 52) & 1, .l = (d >> 53) & 1,
		.db = (d >> 54) & 1, .g = (d >> 55) & 1,
	};

	if (r.g)
		r.limit = r.limit << 12 | 0xfff;
	return r;
}

/* A segment register agrees with the GDT descriptor its selector picks. */
static void check_seg(struct vm *vm, const struct kvm_sregs *s, const struct kvm_segment *seg,
		      uint16_t sel)
{
	uint64_t raw;
	struct desc d;

	assert_int_equal(seg->selector, sel);
	assert_true(sel + 8u <= s->gdt.limit + 1u);
	memcpy(&raw, gpa(vm, s->gdt.base + sel, 8), 8);
	d = desc_decode(raw);
	assert_int_equal(seg->base, d.base);
	assert_int_equal(seg->limit, d.limit);
	assert_int_equal(seg->type, d.type);
	assert_int_equal(seg->s, d.s);
	assert_int_equal(seg->dpl, d.dpl);
	assert_int_equal(seg->present, d.p);
	assert_int_equal(seg->avl, d.avl);
	assert_int_equal(seg->l, d.l);
	assert_int_equal(seg->db, d.db);
	assert_int_equal(seg->g, d.g);
	assert_int_equal(seg->unusable, 0);
	/* Flat 4 GiB, accessed (the CPU never writes the GDT). */
	assert_int_equal(seg->base, 0);
	assert_int_equal(seg->limit, 0xffffffff);
	assert_true(seg->type & 1);
}

static void test_sregs_gdt(void **state)
{
	struct img_opts o = img_default();
	struct vm *vm = vm_new(MiB(128));
	struct x86_boot_info bi;
	struct kvm_sregs s;
	uint64_t gdt[X86_BOOT_GDT_ENTRIES];
	size_t klen;
	uint8_t *k = img_build(&o, &klen);

	(void)state;
	load_ok(vm, k, klen, NULL, 0, NULL, &bi);
	/* As KVM_GET_SREGS gives a fresh vCPU: real mode, CD and NW set. */
	memset(&s, 0, sizeof(s));
	s.cr0 = 0x60000010;
	s.apic_base = 0xfee00900;
	s.cs.selector = 0xf000;
	s.cs.base = 0xffff0000;
	x86_boot_sregs(&s);

	assert_int_equal(s.cr0, 0x80000033);	/* PG NE ET MP PE */
	assert_int_equal(s.cr3, X86_BOOT_PML4);
	assert_int_equal(s.cr4, 0x20);		/* PAE */
	assert_int_equal(s.efer, 0x500);	/* LMA LME */
	assert_int_equal(s.apic_base, 0xfee00900);
	assert_int_equal(s.gdt.base, X86_BOOT_GDT);
	assert_int_equal(s.gdt.limit, 31);
	assert_int_equal(s.idt.limit, 0);

	memcpy(gdt, gpa(vm, X86_BOOT_GDT, sizeof(gdt)), sizeof(gdt));
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);
	assert_int_equal(gdt[2], 0x00af9b000000ffffULL);	/* 64-bit code */
	assert_int_equal(gdt[3], 0x00cf93000000ffffULL);	/* flat data */

	check_seg(vm, &s, &s.cs, X86_BOOT_CS);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.type & 0x8, 0x8);	/* code */
	check_seg(vm, &s, &s.ds, X86_BOOT_DS);
	check_seg(vm, &s, &s.es, X86_BOOT_DS);
	check_seg(vm, &s, &s.fs, X86_BOOT_DS);
	check_seg(vm, &s, &s.gs, X86_BOOT_DS);
	check_seg(vm, &s, &s.ss, X86_BOOT_DS);
	assert_int_equal(s.ds.type & 0xa, 0x2);	/* data, writable */
	assert_int_equal(s.ss.db, 1);

	/* What VM entry wants in long mode: a present busy TSS, a usable LDT. */
	assert_int_equal(s.tr.type, 11);
	assert_int_equal(s.tr.present, 1);
	assert_int_equal(s.tr.s, 0);
	assert_int_equal(s.tr.unusable, 0);
	assert_int_equal(s.ldt.type, 2);
	assert_int_equal(s.ldt.present, 1);
	assert_int_equal(s.ldt.s, 0);
	free(k);
	vm_free(vm);
}

static void test_regs(void **state)
{
	struct x86_boot_info bi = { .entry = 0x1000200, .zero_page = X86_BOOT_ZERO_PAGE,
				    .stack_top = X86_BOOT_STACK_TOP };
	struct kvm_regs r;

	(void)state;
	memset(&r, 0xaa, sizeof(r));
	x86_boot_regs(&r, &bi);
	assert_int_equal(r.rip, 0x1000200);
	assert_int_equal(r.rsi, X86_BOOT_ZERO_PAGE);
	assert_int_equal(r.rsp, X86_BOOT_STACK_TOP);
	assert_int_equal(r.rsp % 16, 0);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rax | r.rbx | r.rcx | r.rdx | r.rdi | r.rbp, 0);
	assert_int_equal(r.r8 | r.r9 | r.r10 | r.r11 | r.r12 | r.r13 | r.r14 | r.r15, 0);
}

static void test_msrs(void **state)
{
	struct kvm_msr_entry e[X86_BOOT_NR_MSRS + 2];
	unsigned int n, i, j;
	int seen_mtrr = 0, seen_misc = 0;

	(void)state;
	memset(e, 0xee, sizeof(e));
	n = x86_boot_msrs(e, X86_BOOT_NR_MSRS + 2);
	assert_int_equal(n, X86_BOOT_NR_MSRS);
	assert_int_equal(e[n].index, 0xeeeeeeee);	/* nothing past the list */
	for (i = 0; i < n; i++) {
		assert_int_equal(e[i].reserved, 0);
		for (j = 0; j < i; j++)
			assert_int_not_equal(e[i].index, e[j].index);
		assert_string_not_equal(x86_msr_name(e[i].index), "MSR");
		switch (e[i].index) {
		case X86_MSR_MTRR_DEF_TYPE:
			assert_int_equal(e[i].data, 0x806);
			seen_mtrr = 1;
			break;
		case X86_MSR_IA32_MISC_ENABLE:
			assert_true(e[i].data & 1);
			seen_misc = 1;
			break;
		default:
			assert_int_equal(e[i].data, 0);
		}
	}
	assert_true(seen_mtrr && seen_misc);
	assert_string_equal(x86_msr_name(0x10), "MSR_IA32_TSC");
	assert_string_equal(x86_msr_name(0x12345), "MSR");
	assert_int_equal(x86_boot_msrs(e, 3), 3);
}

static uint32_t lapic_reg(const struct kvm_lapic_state *s, unsigned int off)
{
	uint32_t v;

	memcpy(&v, &s->regs[off], 4);
	return v;
}

static void test_lapic(void **state)
{
	struct kvm_lapic_state s;
	uint32_t masked = 0x10000;

	(void)state;
	/* KVM's reset: every LVT masked. */
	memset(&s, 0, sizeof(s));
	memcpy(&s.regs[0x350], &masked, 4);
	memcpy(&s.regs[0x360], &masked, 4);
	s.regs[0x20 + 3] = 0;			/* APIC id 0 */
	x86_lapic_lint(&s, true);
	assert_int_equal(lapic_reg(&s, 0x350), 0x700);	/* ExtINT, unmasked */
	assert_int_equal(lapic_reg(&s, 0x360), 0x400);	/* NMI, unmasked */
	assert_int_equal(lapic_reg(&s, 0x340), 0);	/* other LVTs untouched */

	memset(&s, 0, sizeof(s));
	memcpy(&s.regs[0x350], &masked, 4);
	memcpy(&s.regs[0x360], &masked, 4);
	x86_lapic_lint(&s, false);
	assert_int_equal(lapic_reg(&s, 0x350), 0x10700);	/* ExtINT, masked on APs */
	assert_int_equal(lapic_reg(&s, 0x360), 0x400);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	p = malloc(*len);
	assert_non_null(p);
	assert_int_equal(read(fd, p, *len), (ssize_t)*len);
	close(fd);
	return p;
}

/* A real kernel (VMM_TEST_KERNEL=/var/tmp/vmm-lab/vmlinuz); not run without one. */
static void test_real_kernel(void **state)
{
	const char *kpath = getenv("VMM_TEST_KERNEL"), *ipath = getenv("VMM_TEST_INITRD");
	struct x86_bzimage img;
	struct x86_boot_info bi;
	struct boot_params *bp;
	struct vm *vm;
	size_t klen, ilen = MiB(4);
	uint8_t *k, *initrd = NULL;
	uint64_t pa;
	struct kvm_sregs s;

	(void)state;
	if (!kpath || !*kpath || !(k = read_file(kpath, &klen)))
		fail_msg("VMM_TEST_KERNEL=%s: cannot read it", kpath ? kpath : "");
	if (x86_bzimage_parse(k, klen, &img, err, sizeof(err)))
		fail_msg("%s: %s", kpath, err);
	print_message("%s: protocol %u.%02u, %s, alignment 0x%x, pref 0x%llx, init_size 0x%x, cmdline_size %u\n",
		      kpath, img.protocol >> 8, img.protocol & 0xff,
		      img.relocatable ? "relocatable" : "fixed", img.kernel_alignment,
		      (unsigned long long)img.pref_address, img.init_size, img.cmdline_size);
	if (ipath && *ipath)
		initrd = read_file(ipath, &ilen);
	if (!initrd)
		initrd = pattern(ilen, 4);
	vm = vm_new(MiB(512));
	load_ok(vm, k, klen, initrd, ilen, "console=ttyS0 earlyprintk=serial panic=-1", &bi);
	assert_true(bi.kernel_addr >= SZ_1M);
	assert_int_equal(bi.entry, bi.kernel_addr + 0x200);
	assert_true(bi.kernel_end >= bi.kernel_addr + img.init_size);
	assert_true(bi.initrd_addr >= bi.kernel_end);
	assert_true(bi.initrd_addr + ilen <= MiB(512));
	assert_memory_equal(gpa(vm, bi.kernel_addr, img.payload_size), img.payload, img.payload_size);
	assert_memory_equal(gpa(vm, bi.initrd_addr, ilen), initrd, ilen);
	bp = (struct boot_params *)gpa(vm, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	assert_int_equal(bp->hdr.version, img.protocol);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.init_size, img.init_size);
	assert_int_equal(bp->sentinel, 0);
	/* The entry, the zero page, the command line and the initrd are mapped. */
	memset(&s, 0, sizeof(s));
	x86_boot_sregs(&s);
	assert_int_equal(translate(vm, s.cr3, bi.entry, &pa), 0);
	assert_int_equal(pa, bi.entry);
	assert_int_equal(translate(vm, s.cr3, bi.initrd_addr + ilen - 1, &pa), 0);
	vm_free(vm);

	/* Unpacked on the host, placed and relocated as its decompressor would. */
	{
		const void *payload;
		size_t plen, ulen;
		struct x86_vmlinux vml;
		struct x86_boot_kernel bk = { .file = k, .len = klen, .vmlinux = &vml,
					      .random = { 7, 123 } };
		enum unpack_format fmt;
		uint8_t *u;
		const uint8_t *guest;
		uint32_t w;
		uint64_t off, want = 0, got;

		assert_int_equal(x86_bzimage_payload(&img, &payload, &plen, &ulen, err, sizeof(err)), 0);
		fmt = unpack_detect(payload, plen);
		print_message("%s: %s payload, %zu bytes, unpacks to %zu\n", kpath,
			      unpack_format_name(fmt), plen, ulen);
		assert_true(unpack_supported(fmt));
		u = malloc(ulen);
		assert_non_null(u);
		if (unpack(fmt, payload, plen, u, ulen, err, sizeof(err)))
			fail_msg("unpack: %s", err);
		if (x86_vmlinux_parse(u, ulen, &vml, err, sizeof(err)))
			fail_msg("x86_vmlinux_parse: %s", err);
		assert_int_equal(vml.base, img.pref_address);
		assert_non_null(vml.relocs);
		vm = vm_new(MiB(512));
		if (x86_boot_load(&vm->mem, &vm->l, &bk, initrd, ilen, "console=ttyS0", 0, &bi,
				  err, sizeof(err)))
			fail_msg("x86_boot_load: %s", err);
		print_message("placed at 0x%llx, virtual offset 0x%llx (%llu and %llu choices)\n",
			      (unsigned long long)bi.kernel_addr, (unsigned long long)bi.virt_delta,
			      (unsigned long long)bi.phys_slots, (unsigned long long)bi.virt_slots);
		assert_true(bi.kaslr);
		assert_int_not_equal(bi.virt_delta, 0);
		assert_int_equal(bi.entry, bi.kernel_addr + vml.entry);
		/* The first 64-bit relocation: its field moved by the offset. */
		memcpy(&w, vml.relocs + 4, 4);
		off = (uint64_t)(int64_t)(int32_t)w - X86_START_KERNEL_MAP - vml.base;
		guest = gpa(vm, bi.kernel_addr, vml.size);
		memcpy(&got, guest + off, 8);
		for (unsigned int i = 0; i < vml.nr_segs; i++) {
			if (off >= vml.segs[i].offset && off < vml.segs[i].offset + vml.segs[i].filesz)
				memcpy(&want, u + vml.segs[i].file_offset + (off - vml.segs[i].offset), 8);
		}
		assert_int_equal(got, want + bi.virt_delta);
		print_message("first 64-bit relocation at +0x%llx: 0x%llx -> 0x%llx\n",
			      (unsigned long long)off, (unsigned long long)want,
			      (unsigned long long)got);
		free(u);
		vm_free(vm);
	}
	free(k);
	free(initrd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_map),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_twice),
		cmocka_unit_test(test_setup_sects_zero),
		cmocka_unit_test(test_not_relocatable),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_initrd_addr_max),
		cmocka_unit_test(test_initrd_below_hole),
		cmocka_unit_test(test_initrd_too_large),
		cmocka_unit_test(test_cmdline_limit),
		cmocka_unit_test(test_ram_too_small),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_unpacked_kaslr),
		cmocka_unit_test(test_elf_kernel),
		cmocka_unit_test(test_unpacked_no_room),
		cmocka_unit_test(test_cmdline_has),
		cmocka_unit_test(test_cmdline_mem),
		cmocka_unit_test(test_unpacked_avoids),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_page_tables),
		cmocka_unit_test(test_sregs_gdt),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_msrs),
		cmocka_unit_test(test_lapic),
		cmocka_unit_test(test_real_kernel),	/* last: left out without a kernel */
	};
	size_t n = sizeof(tests) / sizeof(tests[0]);
	const char *k = getenv("VMM_TEST_KERNEL");

	/* automake's TAP driver counts cmocka's "not ok # SKIP" as a failure. */
	if (!k || !*k)
		n--;
	return _cmocka_run_group_tests("test_boot", tests, n, NULL, NULL);
}
