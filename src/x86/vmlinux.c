/*
 * The uncompressed kernel: ELF segments by physical address, the relocation
 * table after the ELF image, and loading both into guest memory for a chosen
 * physical address and virtual offset (KASLR done by the VMM).
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "x86/vmlinux.h"

/* 52 bits: no x86-64 physical address is higher. */
#define X86_MAX_PHYS_ADDR	(1ULL << 52)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

bool x86_is_elf(const void *data, size_t len)
{
	return len >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG);
}

/* [off, off + n) inside a file of 'len' bytes, without overflow. */
static bool in_file(uint64_t off, uint64_t n, size_t len)
{
	return off <= len && n <= len - off;
}

static int check_header(const uint8_t *d, size_t len, Elf64_Ehdr *eh, char *err, size_t errlen)
{
	if (!x86_is_elf(d, len) || len < sizeof(*eh)) {
		snprintf(err, errlen, "not an ELF file (or shorter than its header)");
		return -EINVAL;
	}
	memcpy(eh, d, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64) {
		snprintf(err, errlen, "not a 64-bit little-endian x86-64 ELF file (class %u, data %u, machine %u)",
			 eh->e_ident[EI_CLASS], eh->e_ident[EI_DATA], eh->e_machine);
		return -EINVAL;
	}
	if (eh->e_type != ET_EXEC) {
		snprintf(err, errlen, "ELF type %u: a kernel is an executable (ET_EXEC)", eh->e_type);
		return -EINVAL;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum ||
	    !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), len)) {
		snprintf(err, errlen, "ELF program headers (%u of %u bytes at 0x%" PRIx64 ") are not inside the file",
			 eh->e_phnum, eh->e_phentsize, (uint64_t)eh->e_phoff);
		return -EINVAL;
	}
	return 0;
}

/* The PT_LOAD segments, in address order, and base/size/entry. */
static int read_segments(const uint8_t *d, size_t len, const Elf64_Ehdr *eh,
			 struct x86_vmlinux *vm, uint64_t *elf_end, char *err, size_t errlen)
{
	Elf64_Phdr ph[X86_VMLINUX_MAX_SEGS];
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr p;

		memcpy(&p, d + eh->e_phoff + (size_t)i * sizeof(p), sizeof(p));
		if (p.p_type != PT_LOAD)
			continue;
		if (n == X86_VMLINUX_MAX_SEGS) {
			snprintf(err, errlen, "more than %u loadable ELF segments", X86_VMLINUX_MAX_SEGS);
			return -EINVAL;
		}
		if (p.p_filesz > p.p_memsz || !in_file(p.p_offset, p.p_filesz, len)) {
			snprintf(err, errlen,
				 "ELF segment %u (0x%" PRIx64 " bytes at file offset 0x%" PRIx64 ", 0x%" PRIx64
				 " in memory) is not inside the file", i, (uint64_t)p.p_filesz,
				 (uint64_t)p.p_offset, (uint64_t)p.p_memsz);
			return -EINVAL;
		}
		if (p.p_paddr >= X86_MAX_PHYS_ADDR || p.p_memsz > X86_KERNEL_IMAGE_SIZE) {
			snprintf(err, errlen, "ELF segment %u: physical address 0x%" PRIx64
				 " and size 0x%" PRIx64 " are not a kernel's", i, (uint64_t)p.p_paddr,
				 (uint64_t)p.p_memsz);
			return -EINVAL;
		}
		if (p.p_offset + p.p_filesz > *elf_end)
			*elf_end = p.p_offset + p.p_filesz;
		/* Insertion by physical address: a handful of segments. */
		unsigned int j = n++;

		while (j && ph[j - 1].p_paddr > p.p_paddr) {
			ph[j] = ph[j - 1];
			j--;
		}
		ph[j] = p;
		if (p.p_paddr < lo)
			lo = p.p_paddr;
		if (p.p_paddr + p.p_memsz > hi)
			hi = p.p_paddr + p.p_memsz;
	}
	if (!n) {
		snprintf(err, errlen, "no loadable ELF segment");
		return -EINVAL;
	}
	if (lo % X86_KERNEL_MIN_ALIGN || hi - lo > X86_KERNEL_IMAGE_SIZE) {
		snprintf(err, errlen,
			 "ELF segments span 0x%" PRIx64 "-0x%" PRIx64 ": a kernel starts on a 2 MiB boundary and spans at most 1 GiB",
			 lo, hi);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (i && ph[i].p_paddr < ph[i - 1].p_paddr + ph[i - 1].p_memsz) {
			snprintf(err, errlen, "ELF segments overlap at physical address 0x%" PRIx64,
				 (uint64_t)ph[i].p_paddr);
			return -EINVAL;
		}
		vm->segs[i].offset = ph[i].p_paddr - lo;
		vm->segs[i].file_offset = ph[i].p_offset;
		vm->segs[i].filesz = ph[i].p_filesz;
		vm->segs[i].memsz = ph[i].p_memsz;
	}
	vm->nr_segs = n;
	vm->base = lo;
	vm->size = hi - lo;
	if (eh->e_entry < lo || eh->e_entry >= hi) {
		snprintf(err, errlen, "the entry point 0x%" PRIx64 " is outside the segments (0x%" PRIx64 "-0x%" PRIx64 ")",
			 (uint64_t)eh->e_entry, lo, hi);
		return -EINVAL;
	}
	vm->entry = eh->e_entry - lo;
	return 0;
}

/* Where the ELF image ends: its last header table or section. */
static int elf_image_end(const uint8_t *d, size_t len, const Elf64_Ehdr *eh,
			 uint64_t *end, char *err, size_t errlen)
{
	uint64_t e = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);

	if (e > *end)
		*end = e;
	if (eh->e_ehsize > *end)
		*end = eh->e_ehsize;
	if (!eh->e_shoff || !eh->e_shnum)
		return 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len)) {
		snprintf(err, errlen, "ELF section headers (%u at 0x%" PRIx64 ") are not inside the file",
			 eh->e_shnum, (uint64_t)eh->e_shoff);
		return -EINVAL;
	}
	e = eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
	if (e > *end)
		*end = e;
	for (unsigned int i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, d + eh->e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
			continue;
		if (!in_file(sh.sh_offset, sh.sh_size, len)) {
			snprintf(err, errlen, "ELF section %u (0x%" PRIx64 " bytes at 0x%" PRIx64 ") is not inside the file",
				 i, (uint64_t)sh.sh_size, (uint64_t)sh.sh_offset);
			return -EINVAL;
		}
		if (sh.sh_offset + sh.sh_size > *end)
			*end = sh.sh_offset + sh.sh_size;
	}
	return 0;
}

/* The image offset a relocation word patches, if 'width' bytes there are file-backed. */
static bool reloc_target(const struct x86_vmlinux *vm, uint32_t word, unsigned int width,
			 uint64_t *off)
{
	uint64_t virt = (uint64_t)(int64_t)(int32_t)word;
	uint64_t link = virt - X86_START_KERNEL_MAP;	/* its link-time physical address */

	if (virt < X86_START_KERNEL_MAP || link < vm->base)
		return false;
	*off = link - vm->base;
	for (unsigned int i = 0; i < vm->nr_segs; i++) {
		const struct x86_vmlinux_seg *s = &vm->segs[i];

		if (*off >= s->offset && s->filesz >= width && *off - s->offset <= s->filesz - width)
			return true;
	}
	return false;
}

/* Word index of the first entry of each kind, counted from the table's start. */
static size_t reloc_first(const struct x86_vmlinux *vm, enum x86_reloc_kind k)
{
	switch (k) {
	case X86_RELOC_64:
		return 1;
	case X86_RELOC_32_INV:
		return vm->nr_relocs[X86_RELOC_64] + 2;
	default:
		return vm->nr_relocs[X86_RELOC_64] + vm->nr_relocs[X86_RELOC_32_INV] + 3;
	}
}

static unsigned int reloc_width(enum x86_reloc_kind k)
{
	return k == X86_RELOC_64 ? 8 : 4;
}

static int read_relocs(const uint8_t *d, size_t len, size_t start, struct x86_vmlinux *vm,
		       char *err, size_t errlen)
{
	static const char *const kind_name[] = { "32-bit", "inverse 32-bit", "64-bit" };
	/* Read from the end: 32-bit, then inverse 32-bit, then 64-bit. */
	static const enum x86_reloc_kind order[] = { X86_RELOC_32, X86_RELOC_32_INV, X86_RELOC_64 };
	size_t words = (len - start) / 4, i = words;

	if ((len - start) % 4 || words < X86_NR_RELOC_KINDS) {
		snprintf(err, errlen, "%zu bytes after the ELF image are not a relocation table",
			 len - start);
		return -EINVAL;
	}
	for (unsigned int k = 0; k < X86_NR_RELOC_KINDS; k++) {
		size_t n = 0;

		while (i > 0 && rd32(d + start + (i - 1) * 4)) {
			n++;
			i--;
		}
		if (i == 0) {
			snprintf(err, errlen, "the relocation table after the ELF image has no end to its %s entries",
				 kind_name[order[k]]);
			return -EINVAL;
		}
		i--;		/* the 0 that ends this kind */
		vm->nr_relocs[order[k]] = n;
	}
	if (i) {
		snprintf(err, errlen, "%zu bytes between the ELF image and its relocation table",
			 i * 4);
		return -EINVAL;
	}
	vm->relocs = d + start;
	for (unsigned int k = 0; k < X86_NR_RELOC_KINDS; k++) {
		size_t first = reloc_first(vm, (enum x86_reloc_kind)k);

		for (size_t j = 0; j < vm->nr_relocs[k]; j++) {
			uint32_t w = rd32(vm->relocs + (first + j) * 4);
			uint64_t off;

			if (!reloc_target(vm, w, reloc_width((enum x86_reloc_kind)k), &off)) {
				snprintf(err, errlen,
					 "%s relocation %zu (at 0xffffffff%08x) is outside the kernel's segments",
					 kind_name[k], j, w);
				vm->relocs = NULL;
				return -EINVAL;
			}
		}
	}
	return 0;
}

int x86_vmlinux_parse(const void *data, size_t len, struct x86_vmlinux *vm,
		      char *err, size_t errlen)
{
	const uint8_t *d = data;
	uint64_t end = 0;
	Elf64_Ehdr eh;
	int ret;

	memset(vm, 0, sizeof(*vm));
	ret = check_header(d, len, &eh, err, errlen);
	if (!ret)
		ret = read_segments(d, len, &eh, vm, &end, err, errlen);
	if (!ret)
		ret = elf_image_end(d, len, &eh, &end, err, errlen);
	if (!ret && end < len)
		ret = read_relocs(d, len, (size_t)end, vm, err, errlen);
	if (ret) {
		memset(vm, 0, sizeof(*vm));
		return ret;
	}
	vm->data = d;
	vm->len = len;
	return 0;
}

uint64_t x86_vmlinux_virt_slots(const struct x86_vmlinux *vm, uint64_t span, uint64_t align)
{
	if (!vm->relocs || !align || vm->base + span > X86_KERNEL_IMAGE_SIZE)
		return 1;
	return 1 + (X86_KERNEL_IMAGE_SIZE - vm->base - span) / align;
}

static void relocate(uint8_t *img, const struct x86_vmlinux *vm, uint64_t delta)
{
	for (unsigned int k = 0; k < X86_NR_RELOC_KINDS; k++) {
		size_t first = reloc_first(vm, (enum x86_reloc_kind)k);

		for (size_t j = 0; j < vm->nr_relocs[k]; j++) {
			uint64_t off;
			uint8_t *p;

			/* Checked by x86_vmlinux_parse(); checked again, cheaply. */
			if (!reloc_target(vm, rd32(vm->relocs + (first + j) * 4),
					  reloc_width((enum x86_reloc_kind)k), &off))
				continue;
			p = img + off;
			if (k == X86_RELOC_64) {
				uint64_t v;

				memcpy(&v, p, 8);
				v += delta;
				memcpy(p, &v, 8);
			} else {
				uint32_t v;

				memcpy(&v, p, 4);
				v = k == X86_RELOC_32 ? v + (uint32_t)delta : v - (uint32_t)delta;
				memcpy(p, &v, 4);
			}
		}
	}
}

int x86_vmlinux_load(const struct guest_mem *mem, const struct x86_vmlinux *vm,
		     uint64_t phys, uint64_t delta, char *err, size_t errlen)
{
	uint8_t *img;

	if (phys % X86_KERNEL_MIN_ALIGN || delta % X86_KERNEL_MIN_ALIGN || (delta && !vm->relocs)) {
		snprintf(err, errlen, "kernel: cannot run at 0x%" PRIx64 " with virtual offset 0x%" PRIx64,
			 phys, delta);
		return -EINVAL;
	}
	img = guest_mem_ptr(mem, phys, vm->size);
	if (!img) {
		snprintf(err, errlen,
			 "guest memory: [0x%" PRIx64 ", 0x%" PRIx64 ") for the kernel is not mapped",
			 phys, phys + vm->size);
		return -EFAULT;
	}
	for (unsigned int i = 0; i < vm->nr_segs; i++) {
		const struct x86_vmlinux_seg *s = &vm->segs[i];

		memcpy(img + s->offset, vm->data + s->file_offset, s->filesz);
		memset(img + s->offset + s->filesz, 0, s->memsz - s->filesz);
	}
	if (delta)
		relocate(img, vm, delta);
	return 0;
}
