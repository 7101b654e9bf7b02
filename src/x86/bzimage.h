/*
 * The Linux bzImage format: its setup header checked and read, and where its
 * compressed kernel lies. Pure: only the file's bytes.
 */
#ifndef VMM_X86_BZIMAGE_H
#define VMM_X86_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The oldest boot protocol with the 64-bit entry point (xloadflags): 2.12. */
#define BZIMAGE_MIN_PROTOCOL	0x020c
#define BZIMAGE_ENTRY64_OFFSET	0x200	/* from the protected-mode kernel's start */
#define BZ_HDR_OFFSET		0x1f1	/* setup header, in the image and the zero page */
#define BZ_BOOT_FLAG		0xaa55
#define BZ_MAGIC		0x53726448	/* "HdrS" */

/* What x86_bzimage_parse() learns from an image's setup header. */
struct x86_bzimage {
	uint16_t protocol;		/* 0x020f = 2.15 */
	size_t setup_size;		/* real-mode setup code: (setup_sects + 1) * 512 */
	const uint8_t *payload;		/* the protected-mode kernel, in the image */
	size_t payload_size;		/* to the end of the file */
	bool relocatable;
	uint32_t kernel_alignment;	/* a power of two when relocatable */
	uint64_t pref_address;		/* where it runs when not relocated */
	uint32_t init_size;		/* bytes it needs from where it runs */
	uint32_t initrd_addr_max;	/* highest byte an initrd may occupy */
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint16_t xloadflags;
	const uint8_t *hdr;		/* the setup header in the image (NULL: none) */
	size_t hdr_len;			/* as long as the image declares it */
	uint32_t payload_offset;	/* the compressed kernel, from 'payload' */
	uint32_t payload_length;	/* 0: not said (protocol < 2.08) */
};

/*
 * Check that 'kernel' is a bzImage this loader can boot: "HdrS" and the boot
 * flag, protocol 2.12 or later, XLF_KERNEL_64, a setup header and setup code
 * inside the file, syssize not past its end, a power-of-two alignment.
 * 0 or -EINVAL with a message ("kernel: ...") in err. Touches no guest memory:
 * usable to refuse a bad file before a VM exists.
 */
int x86_bzimage_parse(const void *kernel, size_t klen, struct x86_bzimage *img,
		      char *err, size_t errlen);

/*
 * The compressed kernel inside a bzImage that x86_bzimage_parse() read (its
 * setup header's payload_offset and payload_length, protocol 2.08 and
 * later), and the size it unpacks to (the little-endian word that ends it).
 * 0, or -EINVAL with a message.
 */
int x86_bzimage_payload(const struct x86_bzimage *img, const void **payload,
			size_t *len, size_t *unpacked_len, char *err, size_t errlen);

#endif
