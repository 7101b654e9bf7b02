/*
 * Synthetic kernels for the unit tests: bzImages (with a pattern for their
 * protected-mode code, or a real compressed kernel inside) and ELF vmlinux
 * files (segments, bss, gaps, a relocation table), with known bytes
 * everywhere so a test can say what must land where.
 */
#ifndef VMM_TEST_KERNEL_IMAGE_H
#define VMM_TEST_KERNEL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86/vmlinux.h"

#define ELF_BASE	0x1000000ULL	/* where the test kernels are linked: 16 MiB */
#define IMG_STUB	0x400		/* bytes before a bzImage's compressed kernel */

/* What a synthetic bzImage looks like; img_default() is a modern kernel's header. */
struct img_opts {
	uint8_t setup_sects;
	size_t payload;			/* bytes after the setup code */
	uint16_t version;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint32_t syssize;		/* 0: payload / 16 */
	uint8_t hdr_len;		/* byte 0x201: header end - 0x202; 0: full */
	/*
	 * A compressed kernel to carry (payload_offset and payload_length say
	 * where), after IMG_STUB bytes standing for the decompressor; NULL:
	 * 'payload' bytes of a pattern, and no payload_length.
	 */
	const uint8_t *data;
	size_t data_len;
};

/* A modern kernel's header: protocol 2.15, relocatable, 2 MiB aligned at 16 MiB. */
struct img_opts img_default(void);
uint8_t *img_build(const struct img_opts *o, size_t *len);

struct elf_seg_spec {
	uint64_t paddr, filesz, memsz;
	bool percpu;			/* linked at virtual 0, as .data..percpu is */
};

struct elf_spec {
	unsigned int nsegs;
	struct elf_seg_spec seg[4];
	uint64_t entry;
	bool shdrs;
	uint16_t machine, type;
	uint8_t class;
	/* The relocation table; none when all three are empty and !table. */
	bool table;
	uint32_t r32[8], rinv[8], r64[8];
	unsigned int n32, ninv, n64;
};

/* The byte segment s (in spec order) holds at its offset i. */
uint8_t elf_seg_byte(unsigned int s, uint64_t i);
/* Three segments out of address order, the last with bss; no relocations. */
struct elf_spec elf_spec_default(void);
/* The same with one relocation of each kind (two 64-bit), at known places. */
struct elf_spec elf_spec_relocs(void);
/* The kernel address (a relocation word) of byte 'off' of the segment at 'paddr'. */
uint32_t elf_kaddr(uint64_t paddr, uint64_t off);
/* The file: header, program headers, segments 4 KiB-aligned, sections, table. */
uint8_t *elf_build(const struct elf_spec *s, size_t *len);

/*
 * 'len' bytes compressed as Linux's build compresses a kernel (xz with the
 * x86 BCJ filter and CRC32, lzma, gzip, zstd with a checksum), the
 * uncompressed size appended as a little-endian word except for gzip, whose
 * own trailer holds it. *out_len: the payload's length.
 */
uint8_t *payload_xz(const uint8_t *in, size_t len, size_t *out_len);
uint8_t *payload_lzma(const uint8_t *in, size_t len, size_t *out_len);
uint8_t *payload_gzip(const uint8_t *in, size_t len, size_t *out_len);
uint8_t *payload_zstd(const uint8_t *in, size_t len, size_t *out_len);

#endif
