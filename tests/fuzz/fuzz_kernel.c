/*
 * libFuzzer target: the input is a kernel file. A bzImage's header is read
 * and its compressed kernel unpacked (when it says it unpacks to at most
 * 8 MiB); what it unpacks to, or an input that is itself an ELF file, goes
 * through x86_vmlinux_parse() and, when accepted, is loaded and relocated
 * into guest memory of its size. Nothing may touch memory outside the
 * buffers, and an accepted kernel's every relocation must land inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/unpack.h"
#include "x86/bzimage.h"
#include "x86/vmlinux.h"
#include "fuzz_check.h"

#define MAX_UNPACKED	(8u << 20)
#define MAX_IMAGE	(64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char err[512];

static void place(const uint8_t *elf, size_t len)
{
	struct x86_vmlinux vm;
	struct guest_mem mem;
	uint8_t *ram;

	if (x86_vmlinux_parse(elf, len, &vm, err, sizeof(err)))
		return;
	CHECK(vm.nr_segs >= 1 && vm.size <= X86_KERNEL_IMAGE_SIZE);
	CHECK(vm.entry < vm.size);
	CHECK(vm.base % X86_KERNEL_MIN_ALIGN == 0);
	for (unsigned int i = 0; i < vm.nr_segs; i++) {
		CHECK(vm.segs[i].filesz <= vm.segs[i].memsz);
		CHECK(vm.segs[i].offset + vm.segs[i].memsz <= vm.size);
		CHECK(vm.segs[i].file_offset + vm.segs[i].filesz <= len);
	}
	if (vm.size > MAX_IMAGE)
		return;
	/* Exactly the image's size: ASan sees any byte written past it. */
	ram = malloc(vm.size ? vm.size : 1);
	if (!ram)
		return;
	memset(&mem, 0, sizeof(mem));
	mem.regions[0] = (struct guest_region){ .gpa = 0, .size = vm.size, .hva = ram };
	mem.nr = 1;
	CHECK(x86_vmlinux_load(&mem, &vm, 0, vm.relocs ? X86_KERNEL_MIN_ALIGN : 0,
			       err, sizeof(err)) == 0);
	free(ram);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x86_bzimage img;
	const void *payload;
	size_t plen, ulen;
	enum unpack_format f;
	uint8_t *out;

	if (x86_is_elf(data, size)) {
		place(data, size);
		return 0;
	}
	if (x86_bzimage_parse(data, size, &img, err, sizeof(err)) ||
	    x86_bzimage_payload(&img, &payload, &plen, &ulen, err, sizeof(err)))
		return 0;
	CHECK((const uint8_t *)payload >= data && plen <= size &&
	      (size_t)((const uint8_t *)payload - data) <= size - plen);
	f = unpack_detect(payload, plen);
	if (!unpack_supported(f) || !ulen || ulen > MAX_UNPACKED)
		return 0;
	out = malloc(ulen);
	if (!out)
		return 0;
	if (unpack(f, payload, plen, out, ulen, err, sizeof(err)) == 0)
		place(out, ulen);
	free(out);
	return 0;
}
