/*
 * The guest's kernel and initrd as vmm boots them: read once, checked before
 * KVM is touched, and kept across resets; a bzImage's kernel unpacked by vmm
 * (or taken from the kernel cache), an ELF vmlinux taken as it is.
 */
#ifndef VMM_BOOT_FILES_H
#define VMM_BOOT_FILES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/kernel_cache.h"
#include "x86/vmlinux.h"

/* The kernels vmm unpacks are at most this large (a kernel maps 1 GiB). */
#define BOOT_UNPACKED_MAX	(1ULL << 30)

enum boot_kernel_source {
	BOOT_KERNEL_GUEST,		/* a bzImage that decompresses itself in the guest */
	BOOT_KERNEL_UNPACKED,		/* a bzImage vmm unpacked just now */
	BOOT_KERNEL_CACHED,		/* a bzImage whose unpacked kernel came from the cache */
	BOOT_KERNEL_ELF,		/* an ELF vmlinux file */
};

struct boot_files {
	uint8_t *kernel;		/* the kernel file as read */
	size_t kernel_size;
	uint8_t *initrd;		/* NULL: none */
	size_t initrd_size;
	enum boot_kernel_source source;
	/* What the loader places (source != BOOT_KERNEL_GUEST). */
	struct x86_vmlinux vmlinux;
	void *unpacked;			/* mapping of the unpacked kernel; NULL: none */
	size_t unpacked_len;
	bool unpacked_file;		/* a mapping of the cache's file, not anonymous memory */
	/* Storing a kernel just unpacked into the cache, while the guest boots. */
	struct kernel_store *store;
};

/*
 * Read the machine's kernel and initrd and check that the kernel can boot:
 * a bzImage (unpacked here unless mc->decompress says the guest does it,
 * with 'cache' consulted, and filled by a thread of its own that
 * boot_files_free() waits for; a payload vmm cannot decompress, or an
 * unpacked kernel it cannot place, is left to the guest with a warning) or
 * an ELF vmlinux. 0 or a negative errno with "kernel: PATH: ..." (or
 * "initrd: ...") in err.
 */
int boot_files_load(const struct machine_config *mc, const struct kernel_cache *cache,
		    struct boot_files *f, char *err, size_t errlen);
void boot_files_free(struct boot_files *f);

/*
 * A boot has placed the kernel in guest memory: until the next boot (a
 * reset) needs it again, vmm keeps no pages of it that it can give back.
 * A cache file's mapping is dropped from memory (the next boot faults it in
 * again, from the page cache); a kernel just unpacked is swapped for the
 * cache's file once that has been written.
 */
void boot_files_loaded(struct boot_files *f);

/*
 * While a kernel just unpacked is being written to the cache: an eventfd
 * that becomes readable when that is done, for the caller to call
 * boot_files_loaded() again then, between boots. -1: nothing to wait for.
 */
int boot_files_store_fd(const struct boot_files *f);

/* "decompressed by the guest", "unpacked by vmm", ... for messages. */
const char *boot_kernel_source_name(enum boot_kernel_source s);

#endif
