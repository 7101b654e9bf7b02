/*
 * Placing a kernel for the 64-bit boot protocol: the kernel (a bzImage whose
 * decompressor runs in the guest, or an unpacked kernel placed and
 * randomized here), the initrd and the command line in guest RAM, and the
 * zero page (Documentation/arch/x86/boot.rst).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <asm/bootparam.h>

#include "x86/boot_cpu.h"
#include "x86/boot_load.h"
#include "x86/cmdline.h"

#define BZ_LOADER_UNDEFINED	0xff		/* type_of_loader: not an assigned id */
#define BZ_VID_MODE_NORMAL	0xffff
/* For an ELF vmlinux, which has no setup header: what x86-64 Linux takes. */
#define BZ_ELF_PROTOCOL		0x020f
#define BZ_ELF_INITRD_ADDR_MAX	0x7fffffff
#define BZ_ELF_CMDLINE_SIZE	2047

_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is the 4 KiB zero page");

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * What an ELF vmlinux would say in a setup header: protocol 2.15, not
 * relocatable (it runs where it was linked), 2 MiB alignment.
 */
static void elf_bzimage(const struct x86_vmlinux *vm, struct x86_bzimage *img)
{
	memset(img, 0, sizeof(*img));
	img->protocol = BZ_ELF_PROTOCOL;
	img->kernel_alignment = (uint32_t)X86_KERNEL_MIN_ALIGN;
	img->pref_address = vm->base;
	img->init_size = (uint32_t)vm->size;
	img->initrd_addr_max = BZ_ELF_INITRD_ADDR_MAX;
	img->cmdline_size = BZ_ELF_CMDLINE_SIZE;
	img->xloadflags = XLF_KERNEL_64;
}

/* The end of the RAM range that holds 1 MiB: RAM below the 32-bit hole. */
static uint64_t low_ram_end(const struct x86_layout *l)
{
	for (unsigned int i = 0; i < l->nr_ram; i++) {
		const struct addr_range *r = &l->ram[i];

		if (r->base <= X86_BOOT_KERNEL_MIN && X86_BOOT_KERNEL_MIN - r->base < r->size)
			return r->base + r->size;
	}
	return 0;
}

static int place_kernel(const struct guest_mem *mem, const struct x86_bzimage *img,
			uint64_t ram_end, struct x86_boot_info *out, char *err, size_t errlen)
{
	uint64_t load, run, end, init = img->init_size;

	if (img->pref_address >= SZ_4G) {
		snprintf(err, errlen, "kernel: pref_address 0x%" PRIx64 " is above 4 GiB",
			 img->pref_address);
		return -EINVAL;
	}
	if (img->relocatable) {
		/*
		 * Where it would move itself to before decompressing anyway
		 * (it runs at max(load aligned up, pref_address)): no copy.
		 */
		load = img->pref_address > X86_BOOT_KERNEL_MIN ? img->pref_address : X86_BOOT_KERNEL_MIN;
		load = align_up(load, img->kernel_alignment);
		run = load;
	} else {
		/* It runs at pref_address whatever the load address. */
		load = X86_BOOT_KERNEL_MIN;
		run = img->pref_address;
	}
	end = load + img->payload_size;
	if (run + init > end)
		end = run + init;
	if (end > ram_end) {
		snprintf(err, errlen,
			 "kernel: needs guest RAM up to 0x%" PRIx64 " (init_size 0x%" PRIx64
			 " from 0x%" PRIx64 ") but RAM below the 32-bit hole ends at 0x%" PRIx64
			 ": give the guest at least %" PRIu64 " MiB",
			 end, init, run, ram_end, (uint64_t)((end + SZ_1M - 1) / SZ_1M));
		return -ENOSPC;
	}
	if (!guest_mem_ptr(mem, load, end - load) ||
	    guest_mem_write(mem, load, img->payload, img->payload_size)) {
		snprintf(err, errlen,
			 "guest memory: [0x%" PRIx64 ", 0x%" PRIx64 ") for the kernel is not mapped",
			 load, end);
		return -EFAULT;
	}
	out->kernel_addr = load;
	out->kernel_size = img->payload_size;
	out->kernel_end = end;
	out->entry = load + BZIMAGE_ENTRY64_OFFSET;
	return 0;
}

/*
 * Below 'limit', above 'floor', clear of the command line's memmap=
 * regions: the highest page for 'ilen' bytes of initrd.
 */
static int initrd_spot(uint64_t limit, const char *why, uint64_t floor, size_t ilen,
		       const struct x86_mem_avoid *avoid, uint64_t *addr, char *err,
		       size_t errlen)
{
	uint64_t at = 0;
	bool clear = false;

	if (ilen <= limit)
		at = (limit - ilen) & ~(SZ_4K - 1);
	/* Each region it meets moves it below that region: down, so this ends. */
	while (ilen <= limit && at >= floor) {
		const struct addr_range *hit = NULL;

		for (unsigned int i = 0; i < avoid->nr && !hit; i++) {
			const struct addr_range *r = &avoid->regions[i];

			if (at < r->base + r->size && r->base < at + ilen)
				hit = r;
		}
		if (!hit) {
			clear = true;
			break;
		}
		if (hit->base < ilen)
			break;		/* no room below it */
		at = (hit->base - ilen) & ~(SZ_4K - 1);
	}
	if (!clear || at < floor) {
		snprintf(err, errlen,
			 "initrd: %zu bytes (%" PRIu64 " MiB) do not fit between the kernel's end 0x%" PRIx64
			 " and 0x%" PRIx64 " (%s)%s: %" PRIu64 " MiB are free there",
			 ilen, (uint64_t)((ilen + SZ_1M - 1) / SZ_1M), floor, limit, why,
			 avoid->nr ? ", around the memmap= regions" : "",
			 (uint64_t)(limit > floor ? (limit - floor) / SZ_1M : 0));
		return -ENOSPC;
	}
	*addr = at;
	return 0;
}

/* Where an initrd may end: initrd_addr_max + 1, RAM below the hole, mem=, 4 GiB. */
static uint64_t initrd_limit(uint32_t initrd_addr_max, uint64_t ram_end,
			     const struct x86_mem_avoid *avoid, const char **why)
{
	uint64_t limit = (uint64_t)initrd_addr_max + 1;

	*why = "initrd_addr_max + 1";
	if (ram_end < limit) {
		limit = ram_end;
		*why = "the end of RAM below the 32-bit hole";
	}
	if (avoid->limit < limit) {
		limit = avoid->limit;
		*why = "the mem= limit on the command line";
	}
	return limit > SZ_4G ? SZ_4G : limit;
}

static int put_initrd(const struct guest_mem *mem, uint64_t addr, const void *initrd,
		      size_t ilen, struct x86_boot_info *out, char *err, size_t errlen)
{
	if (guest_mem_write(mem, addr, initrd, ilen)) {
		snprintf(err, errlen, "guest memory: [0x%" PRIx64 ", 0x%" PRIx64 ") for the initrd is not mapped",
			 addr, addr + ilen);
		return -EFAULT;
	}
	out->initrd_addr = addr;
	out->initrd_size = ilen;
	return 0;
}

static int place_initrd(const struct guest_mem *mem, const struct x86_bzimage *img,
			uint64_t ram_end, const struct x86_mem_avoid *avoid,
			const void *initrd, size_t ilen, struct x86_boot_info *out,
			char *err, size_t errlen)
{
	const char *why = "";
	uint64_t addr;
	int ret;

	ret = initrd_spot(initrd_limit(img->initrd_addr_max, ram_end, avoid, &why), why,
			  align_up(out->kernel_end, SZ_4K), ilen, avoid, &addr, err, errlen);
	return ret ? ret : put_initrd(mem, addr, initrd, ilen, out, err, errlen);
}

static int place_cmdline(const struct guest_mem *mem, const struct x86_bzimage *img,
			 const char *cmdline, struct x86_boot_info *out, char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;

	if (len > img->cmdline_size || len >= X86_BOOT_CMDLINE_SIZE) {
		snprintf(err, errlen, "cmdline: %zu bytes, longer than the kernel's limit of %" PRIu64,
			 len, (uint64_t)(img->cmdline_size < X86_BOOT_CMDLINE_SIZE - 1 ?
					 img->cmdline_size : X86_BOOT_CMDLINE_SIZE - 1));
		return -EINVAL;
	}
	if (guest_mem_write(mem, X86_BOOT_CMDLINE, cmdline ? cmdline : "", len) ||
	    guest_mem_write(mem, X86_BOOT_CMDLINE + len, "", 1)) {
		snprintf(err, errlen, "guest memory: 0x%llx for the command line is not mapped",
			 X86_BOOT_CMDLINE);
		return -EFAULT;
	}
	out->cmdline_addr = X86_BOOT_CMDLINE;
	out->cmdline_len = len;
	return 0;
}

/*
 * The setup header an ELF vmlinux lacks, as a boot loader would fill it for
 * a protocol 2.15 kernel: what Linux reads of it once running.
 */
static void elf_setup_header(struct setup_header *h)
{
	memset(h, 0, sizeof(*h));
	h->boot_flag = BZ_BOOT_FLAG;
	h->header = BZ_MAGIC;
	h->version = BZ_ELF_PROTOCOL;
	h->loadflags = LOADED_HIGH;
	h->kernel_alignment = (uint32_t)X86_KERNEL_MIN_ALIGN;
	h->initrd_addr_max = BZ_ELF_INITRD_ADDR_MAX;
	h->cmdline_size = BZ_ELF_CMDLINE_SIZE;
	h->xloadflags = XLF_KERNEL_64;
}

static int write_zero_page(const struct guest_mem *mem, const struct x86_layout *l,
			   const struct x86_bzimage *img, uint64_t rsdp_addr,
			   const struct x86_boot_info *bi, char *err, size_t errlen)
{
	struct boot_params *bp = guest_mem_ptr(mem, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	unsigned int i;

	if (!bp) {
		snprintf(err, errlen, "guest memory: 0x%llx for the zero page is not mapped",
			 X86_BOOT_ZERO_PAGE);
		return -EFAULT;
	}
	/* A clean page with only the setup header copied in, as boot.rst asks. */
	memset(bp, 0, sizeof(*bp));
	if (img->hdr)
		memcpy(&bp->hdr, img->hdr, img->hdr_len < sizeof(bp->hdr) ? img->hdr_len : sizeof(bp->hdr));
	else
		elf_setup_header(&bp->hdr);

	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	/* KEEP_SEGMENTS and CAN_USE_HEAP concern the 32-bit and real-mode entries. */
	bp->hdr.loadflags = (uint8_t)((bp->hdr.loadflags & ~(KEEP_SEGMENTS | CAN_USE_HEAP | KASLR_FLAG)) |
				      LOADED_HIGH);
	/* For the kernel, from its decompressor: its placement was randomized. */
	if (bi->kaslr)
		bp->hdr.loadflags |= KASLR_FLAG;
	bp->hdr.vid_mode = BZ_VID_MODE_NORMAL;
	bp->hdr.code32_start = (uint32_t)bi->kernel_addr;
	bp->hdr.ramdisk_image = (uint32_t)bi->initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)bi->initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(bi->initrd_addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)(bi->initrd_size >> 32);
	bp->hdr.cmd_line_ptr = (uint32_t)bi->cmdline_addr;
	bp->ext_cmd_line_ptr = (uint32_t)(bi->cmdline_addr >> 32);
	bp->hdr.setup_data = 0;
	bp->acpi_rsdp_addr = rsdp_addr;

	for (i = 0; i < l->nr_e820 && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		bp->e820_table[i].addr = l->e820[i].addr;
		bp->e820_table[i].size = l->e820[i].size;
		bp->e820_table[i].type = l->e820[i].type;
	}
	bp->e820_entries = (uint8_t)i;
	return 0;
}

/*
 * The places for a kernel of 'span' bytes from 'lo' up, 'align' apart, below
 * 'top' and clear of the command line's memmap= regions: how many, and the
 * one numbered 'pick' (from 0) in *at.
 */
static uint64_t kernel_places(uint64_t lo, uint64_t top, uint64_t span, uint64_t align,
			      const struct x86_mem_avoid *avoid, uint64_t pick, uint64_t *at)
{
	uint64_t n = 0;

	for (uint64_t p = lo; p <= top && top - p >= span; p += align) {
		if (x86_mem_avoid_hits(avoid, p, span))
			continue;
		if (n++ == pick)
			*at = p;
	}
	return n;
}

/*
 * An unpacked kernel: the initrd at the top, the kernel below it, both
 * randomized as the kernel's own decompressor would (KASLR), and both clear
 * of the memory the command line keeps from the kernel.
 */
static int place_unpacked(const struct guest_mem *mem, const struct x86_bzimage *img,
			  const struct x86_boot_kernel *k, bool kaslr,
			  const struct x86_mem_avoid *avoid, uint64_t ram_end,
			  const void *initrd, size_t ilen, struct x86_boot_info *out,
			  char *err, size_t errlen)
{
	const struct x86_vmlinux *vm = k->vmlinux;
	uint64_t align = img->kernel_alignment > X86_KERNEL_MIN_ALIGN ? img->kernel_alignment
								      : X86_KERNEL_MIN_ALIGN;
	uint64_t span = align_up(vm->size > img->init_size ? vm->size : img->init_size,
				 X86_KERNEL_MIN_ALIGN);
	uint64_t lo, top = ram_end < avoid->limit ? ram_end : avoid->limit, phys, delta = 0;
	const char *why = "";
	int ret;

	if (img->relocatable) {
		if (img->pref_address >= SZ_4G) {
			snprintf(err, errlen, "kernel: pref_address 0x%" PRIx64 " is above 4 GiB",
				 img->pref_address);
			return -EINVAL;
		}
		lo = align_up(img->pref_address > X86_BOOT_KERNEL_MIN ? img->pref_address
								       : X86_BOOT_KERNEL_MIN, align);
	} else {
		lo = vm->base;
	}
	/* Below 1 MiB lie the zero page, the page tables and the command line. */
	if (lo < X86_BOOT_KERNEL_MIN || lo >= SZ_4G) {
		snprintf(err, errlen,
			 "kernel: linked to run at 0x%" PRIx64 ", where it cannot go: outside [1 MiB, 4 GiB)",
			 lo);
		return -EINVAL;
	}
	if (span > ram_end || lo > ram_end - span) {
		snprintf(err, errlen,
			 "kernel: needs guest RAM up to 0x%" PRIx64 " (0x%" PRIx64 " bytes from 0x%" PRIx64
			 ") but RAM below the 32-bit hole ends at 0x%" PRIx64
			 ": give the guest at least %" PRIu64 " MiB",
			 lo + span, span, lo, ram_end, (uint64_t)((lo + span + SZ_1M - 1) / SZ_1M));
		return -ENOSPC;
	}
	if (initrd && ilen) {
		uint64_t at;

		ret = initrd_spot(initrd_limit(img->initrd_addr_max, ram_end, avoid, &why), why,
				  lo + span, ilen, avoid, &at, err, errlen);
		if (!ret)
			ret = put_initrd(mem, at, initrd, ilen, out, err, errlen);
		if (ret)
			return ret;
		if (at < top)
			top = at;
	}
	/*
	 * Where it goes: where it was linked (or its pref_address) unless
	 * KASLR may move it, and as Linux's decompressor, not at all with more
	 * memmap= regions than it tracks, or with no clear place.
	 */
	phys = lo;
	out->phys_slots = 1;
	if (kaslr && img->relocatable && !avoid->too_many) {
		uint64_t n = kernel_places(lo, top, span, align, avoid, UINT64_MAX, &phys);

		if (n) {
			kernel_places(lo, top, span, align, avoid, k->random[0] % n, &phys);
			out->phys_slots = n;
		}
	}
	/* Linux steps its virtual choices by kernel_alignment too. */
	out->virt_slots = x86_vmlinux_virt_slots(vm, span, align);
	if (kaslr)
		delta = k->random[1] % out->virt_slots * align;
	ret = x86_vmlinux_load(mem, vm, phys, delta, err, errlen);
	if (ret)
		return ret;
	out->unpacked = true;
	/*
	 * Linux's decompressor says KASLR whenever 'nokaslr' is absent, and
	 * the kernel then randomizes its memory regions; a kernel that runs
	 * where it was linked gets nothing to randomize from us.
	 */
	out->kaslr = kaslr && (img->relocatable || vm->relocs);
	out->virt_delta = delta;
	out->kernel_addr = phys;
	out->kernel_size = vm->size;
	out->kernel_end = phys + span;
	out->entry = phys + vm->entry;
	return 0;
}

int x86_boot_load(const struct guest_mem *mem, const struct x86_layout *l,
		  const struct x86_boot_kernel *k, const void *initrd, size_t ilen,
		  const char *cmdline, uint64_t rsdp_addr, struct x86_boot_info *out,
		  char *err, size_t errlen)
{
	struct x86_mem_avoid avoid;
	struct x86_bzimage img;
	uint64_t ram_end;
	int ret;

	memset(out, 0, sizeof(*out));
	if (x86_is_elf(k->file, k->len)) {
		if (!k->vmlinux) {
			snprintf(err, errlen, "kernel: an ELF vmlinux needs its segments parsed first");
			return -EINVAL;
		}
		elf_bzimage(k->vmlinux, &img);
	} else {
		ret = x86_bzimage_parse(k->file, k->len, &img, err, errlen);
		if (ret)
			return ret;
	}
	ram_end = low_ram_end(l);
	if (ram_end > X86_BOOT_IDMAP_END)
		ram_end = X86_BOOT_IDMAP_END;

	x86_cmdline_mem(cmdline, &avoid);
	if (k->vmlinux) {
		ret = place_unpacked(mem, &img, k, !x86_cmdline_has(cmdline, "nokaslr"), &avoid,
				     ram_end, initrd, ilen, out, err, errlen);
	} else {
		ret = place_kernel(mem, &img, ram_end, out, err, errlen);
		if (!ret && initrd && ilen)
			ret = place_initrd(mem, &img, ram_end, &avoid, initrd, ilen, out, err, errlen);
	}
	if (ret)
		return ret;
	ret = place_cmdline(mem, &img, cmdline, out, err, errlen);
	if (ret)
		return ret;
	out->zero_page = X86_BOOT_ZERO_PAGE;
	out->stack_top = X86_BOOT_STACK_TOP;
	out->protocol = img.protocol;
	ret = write_zero_page(mem, l, &img, rsdp_addr, out, err, errlen);
	if (ret)
		return ret;
	return x86_boot_write_tables(mem, err, errlen);
}
