/* Synthetic bzImages and ELF kernels for the unit tests (kernel_image.h). */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <asm/bootparam.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "kernel_image.h"

#define MAP		X86_START_KERNEL_MAP
#define MiB(x)		((uint64_t)(x) << 20)

struct img_opts img_default(void)
{
	return (struct img_opts) {
		.setup_sects = 27,
		.payload = 0x12345,
		.version = 0x020f,
		.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
		.relocatable = 1,
		.kernel_alignment = 0x200000,
		.pref_address = 0x1000000,
		.init_size = 0x2000000,
		.initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047,
	};
}

uint8_t *img_build(const struct img_opts *o, size_t *len)
{
	size_t setup = ((size_t)(o->setup_sects ? o->setup_sects : 4) + 1) * 512;
	struct setup_header h;
	uint8_t *k;

	size_t payload = o->data ? IMG_STUB + o->data_len : o->payload;

	*len = setup + payload;
	k = calloc(1, *len);
	assert_non_null(k);
	for (size_t i = 0; i < payload; i++)
		k[setup + i] = (uint8_t)(i * 7 + 3);
	if (o->data)
		memcpy(k + setup + IMG_STUB, o->data, o->data_len);

	memset(&h, 0, sizeof(h));
	h.setup_sects = o->setup_sects;
	h.syssize = o->syssize ? o->syssize : (uint32_t)(payload / 16);
	h.vid_mode = 0xfffd;			/* the kernel's default: "ask" */
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | (o->hdr_len ? o->hdr_len : 0x6a) << 8);
	h.header = 0x53726448;
	h.version = o->version;
	h.loadflags = LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = o->initrd_addr_max;
	h.kernel_alignment = o->kernel_alignment;
	h.relocatable_kernel = o->relocatable;
	h.min_alignment = 21;
	h.xloadflags = o->xloadflags;
	h.cmdline_size = o->cmdline_size;
	h.pref_address = o->pref_address;
	h.init_size = o->init_size;
	h.handover_offset = 0x190;
	if (o->data) {
		h.payload_offset = IMG_STUB;
		h.payload_length = (uint32_t)o->data_len;
	}
	memcpy(k + 0x1f1, &h, sizeof(h));
	return k;
}

uint8_t elf_seg_byte(unsigned int s, uint64_t i)
{
	return (uint8_t)(i * 7 + s * 31 + 1);
}

struct elf_spec elf_spec_default(void)
{
	/* Three segments, listed out of address order; the last with bss. */
	return (struct elf_spec) {
		.nsegs = 3,
		.seg = {
			{ ELF_BASE + MiB(2), 0x3000, 0x3000, false },
			{ ELF_BASE, 0x5000, 0x5000, false },
			{ ELF_BASE + MiB(3), 0x2000, 0x6000, false },
		},
		.entry = ELF_BASE + 0x40,
		.shdrs = true,
		.machine = EM_X86_64,
		.type = ET_EXEC,
		.class = ELFCLASS64,
	};
}

uint32_t elf_kaddr(uint64_t paddr, uint64_t off)
{
	return (uint32_t)(MAP + paddr + off);
}

struct elf_spec elf_spec_relocs(void)
{
	struct elf_spec s = elf_spec_default();

	s.table = true;
	s.r64[s.n64++] = elf_kaddr(ELF_BASE, 0x100);
	s.r64[s.n64++] = elf_kaddr(ELF_BASE + MiB(2), 0x2ff8);	/* the last 8 bytes of a segment */
	s.r32[s.n32++] = elf_kaddr(ELF_BASE, 0x200);
	s.rinv[s.ninv++] = elf_kaddr(ELF_BASE + MiB(3), 0x10);
	return s;
}

uint8_t *elf_build(const struct elf_spec *s, size_t *len)
{
	size_t off = 0x1000, cap = 0, shoff;
	uint64_t fileoff[4];
	uint8_t *f;
	Elf64_Ehdr eh;

	for (unsigned int i = 0; i < s->nsegs; i++) {
		fileoff[i] = off;
		off += (s->seg[i].filesz + 0xfff) & ~0xfffULL;
	}
	shoff = off;
	if (s->shdrs)
		off += 3 * sizeof(Elf64_Shdr) + 16;
	cap = off + 4 * (3 + s->n32 + s->ninv + s->n64);
	f = calloc(1, cap);
	assert_non_null(f);

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = s->class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = s->type;
	eh.e_machine = s->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)(s->nsegs + 1);
	if (s->shdrs) {
		eh.e_shoff = shoff;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 3;
		eh.e_shstrndx = 2;
	}
	memcpy(f, &eh, sizeof(eh));
	for (unsigned int i = 0; i < s->nsegs; i++) {
		Elf64_Phdr ph = {
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W,
			.p_offset = fileoff[i],
			.p_vaddr = s->seg[i].percpu ? 0 : MAP + s->seg[i].paddr,
			.p_paddr = s->seg[i].paddr,
			.p_filesz = s->seg[i].filesz,
			.p_memsz = s->seg[i].memsz,
			.p_align = 0x200000,
		};

		memcpy(f + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		for (uint64_t b = 0; b < s->seg[i].filesz; b++)
			f[fileoff[i] + b] = elf_seg_byte(i, b);
	}
	/* A note segment: not loaded. */
	{
		Elf64_Phdr note = { .p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = 0x20 };

		memcpy(f + sizeof(eh) + s->nsegs * sizeof(note), &note, sizeof(note));
	}
	if (s->shdrs) {
		Elf64_Shdr sh[3];

		memset(sh, 0, sizeof(sh));
		sh[1].sh_type = SHT_PROGBITS;
		sh[1].sh_offset = fileoff[0];
		sh[1].sh_size = s->seg[0].filesz;
		sh[2].sh_type = SHT_STRTAB;
		sh[2].sh_offset = shoff + sizeof(sh);
		sh[2].sh_size = 16;
		memcpy(f + shoff, sh, sizeof(sh));
	}
	if (s->table || s->n32 || s->ninv || s->n64) {
		uint32_t *w = (uint32_t *)(f + off);
		size_t k = 0;

		w[k++] = 0;
		for (unsigned int i = 0; i < s->n64; i++)
			w[k++] = s->r64[i];
		w[k++] = 0;
		for (unsigned int i = 0; i < s->ninv; i++)
			w[k++] = s->rinv[i];
		w[k++] = 0;
		for (unsigned int i = 0; i < s->n32; i++)
			w[k++] = s->r32[i];
		off += k * 4;
	}
	*len = off;
	return f;
}


/* As Linux's build does: the stream, then the size as a little-endian word. */
static size_t with_size(uint8_t *out, size_t n, size_t len)
{
	out[n] = (uint8_t)len;
	out[n + 1] = (uint8_t)(len >> 8);
	out[n + 2] = (uint8_t)(len >> 16);
	out[n + 3] = (uint8_t)(len >> 24);
	return n + 4;
}

uint8_t *payload_xz(const uint8_t *in, size_t len, size_t *out_len)
{
	/* The kernel's: BCJ for x86, then LZMA2, CRC32 check. */
	lzma_options_lzma opt;
	lzma_filter filters[] = {
		{ .id = LZMA_FILTER_X86, .options = NULL },
		{ .id = LZMA_FILTER_LZMA2, .options = &opt },
		{ .id = LZMA_VLI_UNKNOWN, .options = NULL },
	};
	size_t cap = len + len / 2 + 4096, n = 0;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	assert_false(lzma_lzma_preset(&opt, 6));
	assert_int_equal(lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, len,
						   out, &n, cap - 4), LZMA_OK);
	*out_len = with_size(out, n, len);
	return out;
}

uint8_t *payload_lzma(const uint8_t *in, size_t len, size_t *out_len)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;
	size_t cap = len + len / 2 + 4096;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	assert_false(lzma_lzma_preset(&opt, 6));
	assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap - 4;
	assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	*out_len = with_size(out, (size_t)s.total_out, len);
	lzma_end(&s);
	return out;
}

uint8_t *payload_gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream z;
	size_t cap = len + len / 2 + 4096;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	/* gzip ends with its own size word: Linux appends nothing. */
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

uint8_t *payload_zstd(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len) + 4, n;
	uint8_t *out = malloc(cap);
	ZSTD_CCtx *z = ZSTD_createCCtx();

	assert_non_null(out);
	assert_non_null(z);
	/* As the zstd command Linux's build runs: with a content checksum. */
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 19)));
	assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1)));
	n = ZSTD_compress2(z, out, cap - 4, in, len);
	assert_false(ZSTD_isError(n));
	ZSTD_freeCCtx(z);
	*out_len = with_size(out, n, len);
	return out;
}
