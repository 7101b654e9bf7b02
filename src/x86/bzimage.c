/*
 * The bzImage format: its setup header checked and read (what the 64-bit
 * boot protocol needs of it), and the compressed kernel it carries
 * (Documentation/arch/x86/boot.rst).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <asm/bootparam.h>

#include "x86/boot.h"
#include "x86/bzimage.h"

#define BZ_BOOT_FLAG_OFFSET	0x1fe
#define BZ_JUMP_OFFSET		0x200	/* a jump; its 2nd byte sizes the header */
#define BZ_MAGIC_OFFSET		0x202
#define BZ_SECTOR		512
#define BZ_DEFAULT_SETUP_SECTS	4

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
			 "kernel: neither a bzImage (no \"HdrS\" boot header at 0x202 with boot flag 0xaa55 at 0x1fe) nor an ELF vmlinux");
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
	img->hdr = k + BZ_HDR_OFFSET;
	img->hdr_len = end - BZ_HDR_OFFSET;
	if (end >= HDR_END(payload_length)) {
		img->payload_offset = h.payload_offset;
		img->payload_length = h.payload_length;
	}
	return 0;
}

int x86_bzimage_payload(const struct x86_bzimage *img, const void **payload,
			size_t *len, size_t *unpacked_len, char *err, size_t errlen)
{
	if (img->payload_length < 5) {
		snprintf(err, errlen, "kernel: the setup header does not say where the compressed kernel is");
		return -EINVAL;
	}
	if (img->payload_offset > img->payload_size ||
	    img->payload_length > img->payload_size - img->payload_offset) {
		snprintf(err, errlen,
			 "kernel: the compressed kernel (0x%x bytes at 0x%zx) runs past the file's end (0x%zx)",
			 img->payload_length, img->setup_size + img->payload_offset,
			 img->setup_size + img->payload_size);
		return -EINVAL;
	}
	*payload = img->payload + img->payload_offset;
	*len = img->payload_length;
	/* Linux's build appends the uncompressed size, little-endian. */
	*unpacked_len = rd32(img->payload + img->payload_offset + img->payload_length - 4);
	return 0;
}
