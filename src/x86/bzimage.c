/*
 * The bzImage loader: checks the setup header, places the kernel, initrd
 * and command line in guest RAM and writes the zero page for the 64-bit
 * entry (Documentation/arch/x86/boot.rst).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <asm/bootparam.h>

#include "x86/boot_cpu.h"
#include "x86/bzimage.h"

#define BZ_HDR_OFFSET		0x1f1	/* setup header, in the image and the zero page */
#define BZ_BOOT_FLAG_OFFSET	0x1fe
#define BZ_JUMP_OFFSET		0x200	/* a jump; its 2nd byte sizes the header */
#define BZ_MAGIC_OFFSET		0x202
#define BZ_BOOT_FLAG		0xaa55
#define BZ_MAGIC		0x53726448	/* "HdrS" */
#define BZ_SECTOR		512
#define BZ_DEFAULT_SETUP_SECTS	4
#define BZ_LOADER_UNDEFINED	0xff		/* type_of_loader: not an assigned id */
#define BZ_VID_MODE_NORMAL	0xffff

_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is the 4 KiB zero page");
_Static_assert(offsetof(struct boot_params, hdr) == BZ_HDR_OFFSET, "setup header offset");

#define HDR_END(field) (BZ_HDR_OFFSET + offsetof(struct setup_header, field) + \
			sizeof(((struct setup_header *)0)->field))

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* The end of the setup header as the image declares it: 0x202 + byte 0x201. */
static size_t hdr_end(const uint8_t *k)
{
	return BZ_MAGIC_OFFSET + k[BZ_JUMP_OFFSET + 1];
}

int x86_bzimage_parse(const void *kernel, size_t klen, struct x86_bzimage *img,
		      char *err, size_t errlen)
{
	const uint8_t *k = kernel;
	struct setup_header h;
	size_t end, setup_sects, sys_bytes;

	memset(img, 0, sizeof(*img));
	if (!k || klen < BZ_MAGIC_OFFSET + 6) {
		snprintf(err, errlen, "kernel: %zu bytes: too small to be a bzImage", klen);
		return -EINVAL;
	}
	if (rd32(k + BZ_MAGIC_OFFSET) != BZ_MAGIC || rd16(k + BZ_BOOT_FLAG_OFFSET) != BZ_BOOT_FLAG) {
		snprintf(err, errlen,
			 "kernel: not a bzImage (no \"HdrS\" boot header at 0x202 with boot flag 0xaa55 at 0x1fe); an ELF vmlinux or a compressed file will not do");
		return -EINVAL;
	}
	img->protocol = rd16(k + BZ_MAGIC_OFFSET + 4);
	if (img->protocol < BZIMAGE_MIN_PROTOCOL) {
		snprintf(err, errlen,
			 "kernel: boot protocol %u.%02u is too old: the 64-bit entry needs 2.12 (Linux 3.8) or later",
			 img->protocol >> 8, img->protocol & 0xff);
		return -EINVAL;
	}
	end = hdr_end(k);
	if (end < HDR_END(init_size)) {
		snprintf(err, errlen,
			 "kernel: setup header ends at 0x%zx, before init_size (0x%zx) that protocol %u.%02u has",
			 end, (size_t)HDR_END(init_size), img->protocol >> 8, img->protocol & 0xff);
		return -EINVAL;
	}
	if (end > klen) {
		snprintf(err, errlen, "kernel: truncated: %zu bytes, the setup header ends at 0x%zx",
			 klen, end);
		return -EINVAL;
	}
	memset(&h, 0, sizeof(h));
	memcpy(&h, k + BZ_HDR_OFFSET, end - BZ_HDR_OFFSET < sizeof(h) ? end - BZ_HDR_OFFSET : sizeof(h));

	if (!(h.xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errlen,
			 "kernel: no 64-bit entry point (xloadflags 0x%x lacks XLF_KERNEL_64): a 32-bit kernel?",
			 h.xloadflags);
		return -EINVAL;
	}
	setup_sects = h.setup_sects ? h.setup_sects : BZ_DEFAULT_SETUP_SECTS;
	img->setup_size = (setup_sects + 1) * BZ_SECTOR;
	if (img->setup_size >= klen) {
		snprintf(err, errlen,
			 "kernel: truncated: %zu setup sectors end at 0x%zx, the file has %zu bytes",
			 setup_sects, img->setup_size, klen);
		return -EINVAL;
	}
	img->payload = k + img->setup_size;
	img->payload_size = klen - img->setup_size;
	sys_bytes = (size_t)h.syssize * 16;
	if (sys_bytes > img->payload_size) {
		snprintf(err, errlen,
			 "kernel: truncated: the protected-mode kernel is 0x%zx bytes (syssize), only 0x%zx follow the setup code",
			 sys_bytes, img->payload_size);
		return -EINVAL;
	}
	img->relocatable = h.relocatable_kernel != 0;
	img->kernel_alignment = h.kernel_alignment;
	if (img->relocatable && !is_pow2(h.kernel_alignment)) {
		snprintf(err, errlen, "kernel: kernel_alignment 0x%x is not a power of two",
			 h.kernel_alignment);
		return -EINVAL;
	}
	img->pref_address = h.pref_address;
	if (!img->relocatable && img->pref_address < X86_BOOT_KERNEL_MIN) {
		snprintf(err, errlen,
			 "kernel: not relocatable and its pref_address 0x%" PRIx64 " is below 1 MiB",
			 img->pref_address);
		return -EINVAL;
	}
	img->init_size = h.init_size;
	img->initrd_addr_max = h.initrd_addr_max;
	img->cmdline_size = h.cmdline_size;
	img->xloadflags = h.xloadflags;
	return 0;
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

static int place_initrd(const struct guest_mem *mem, const struct x86_bzimage *img,
			uint64_t ram_end, const void *initrd, size_t ilen,
			struct x86_boot_info *out, char *err, size_t errlen)
{
	uint64_t limit = (uint64_t)img->initrd_addr_max + 1;
	uint64_t floor = align_up(out->kernel_end, SZ_4K);
	uint64_t addr;
	const char *why = "initrd_addr_max + 1";

	if (ram_end < limit) {
		limit = ram_end;
		why = "the end of RAM below the 32-bit hole";
	}
	if (limit > SZ_4G)
		limit = SZ_4G;
	if (ilen > limit || ((limit - ilen) & ~(SZ_4K - 1)) < floor) {
		snprintf(err, errlen,
			 "initrd: %zu bytes (%" PRIu64 " MiB) do not fit between the kernel's end 0x%" PRIx64
			 " and 0x%" PRIx64 " (%s): %" PRIu64 " MiB are free there",
			 ilen, (uint64_t)((ilen + SZ_1M - 1) / SZ_1M), floor, limit, why,
			 (uint64_t)(limit > floor ? (limit - floor) / SZ_1M : 0));
		return -ENOSPC;
	}
	addr = (limit - ilen) & ~(SZ_4K - 1);
	if (guest_mem_write(mem, addr, initrd, ilen)) {
		snprintf(err, errlen, "guest memory: [0x%" PRIx64 ", 0x%" PRIx64 ") for the initrd is not mapped",
			 addr, addr + ilen);
		return -EFAULT;
	}
	out->initrd_addr = addr;
	out->initrd_size = ilen;
	return 0;
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

static int write_zero_page(const struct guest_mem *mem, const struct x86_layout *l,
			   const uint8_t *k, uint64_t rsdp_addr,
			   const struct x86_boot_info *bi, char *err, size_t errlen)
{
	struct boot_params *bp = guest_mem_ptr(mem, X86_BOOT_ZERO_PAGE, sizeof(*bp));
	size_t hlen = hdr_end(k) - BZ_HDR_OFFSET;
	unsigned int i;

	if (!bp) {
		snprintf(err, errlen, "guest memory: 0x%llx for the zero page is not mapped",
			 X86_BOOT_ZERO_PAGE);
		return -EFAULT;
	}
	/* A clean page with only the setup header copied in, as boot.rst asks. */
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, k + BZ_HDR_OFFSET, hlen < sizeof(bp->hdr) ? hlen : sizeof(bp->hdr));

	bp->hdr.type_of_loader = BZ_LOADER_UNDEFINED;
	/* KEEP_SEGMENTS and CAN_USE_HEAP concern the 32-bit and real-mode entries. */
	bp->hdr.loadflags = (uint8_t)((bp->hdr.loadflags & ~(KEEP_SEGMENTS | CAN_USE_HEAP)) |
				      LOADED_HIGH);
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

int x86_boot_load(const struct guest_mem *mem, const struct x86_layout *l,
		  const void *kernel, size_t klen, const void *initrd, size_t ilen,
		  const char *cmdline, uint64_t rsdp_addr, struct x86_boot_info *out,
		  char *err, size_t errlen)
{
	struct x86_bzimage img;
	uint64_t ram_end;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = x86_bzimage_parse(kernel, klen, &img, err, errlen);
	if (ret)
		return ret;
	ram_end = low_ram_end(l);
	if (ram_end > X86_BOOT_IDMAP_END)
		ram_end = X86_BOOT_IDMAP_END;

	ret = place_kernel(mem, &img, ram_end, out, err, errlen);
	if (ret)
		return ret;
	if (initrd && ilen) {
		ret = place_initrd(mem, &img, ram_end, initrd, ilen, out, err, errlen);
		if (ret)
			return ret;
	}
	ret = place_cmdline(mem, &img, cmdline, out, err, errlen);
	if (ret)
		return ret;
	out->zero_page = X86_BOOT_ZERO_PAGE;
	out->stack_top = X86_BOOT_STACK_TOP;
	out->protocol = img.protocol;
	ret = write_zero_page(mem, l, kernel, rsdp_addr, out, err, errlen);
	if (ret)
		return ret;
	return x86_boot_write_tables(mem, err, errlen);
}
