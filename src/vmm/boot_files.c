/*
 * Reading the kernel and initrd, and unpacking a bzImage's kernel on the
 * host: the guest then starts in the kernel proper, placed and randomized
 * by the loader, instead of running the bzImage's decompressor first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/thread.h"
#include "util/unpack.h"
#include "vmm/boot_files.h"
#include "x86/bzimage.h"

struct loaded_file {
	uint8_t *data;
	size_t size;
};

/*
 * The whole file in memory, read in large pieces: page-faulting a mapping
 * in 4 KiB steps costs one round trip each on network file systems (9p,
 * NFS), many seconds for a kernel.
 */
static int load_file(const char *path, const char *what, struct loaded_file *f,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t done = 0;
	int fd, ret = 0;

	f->data = NULL;
	f->size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s: %s: not a regular, non-empty file", what, path);
		ret = -EINVAL;
		goto out;
	}
	f->size = (size_t)st.st_size;
	f->data = malloc(f->size);
	if (!f->data) {
		snprintf(err, errlen, "%s: %s: out of memory", what, path);
		ret = -ENOMEM;
		goto out;
	}
	while (done < f->size) {
		ssize_t n = read(fd, f->data + done, f->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: %s: %s", what, path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			goto out;
		}
		done += (size_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(f->data);
		f->data = NULL;
	}
	return ret;
}

const char *boot_kernel_source_name(enum boot_kernel_source s)
{
	switch (s) {
	case BOOT_KERNEL_UNPACKED:
		return "unpacked by vmm";
	case BOOT_KERNEL_CACHED:
		return "unpacked by vmm, from the kernel cache";
	case BOOT_KERNEL_ELF:
		return "an ELF vmlinux";
	default:
		return "decompressed by the guest";
	}
}

static void drop_unpacked(struct boot_files *f)
{
	if (f->unpacked)
		munmap(f->unpacked, f->unpacked_len);
	f->unpacked = NULL;
	f->unpacked_len = 0;
	f->unpacked_file = false;
	memset(&f->vmlinux, 0, sizeof(f->vmlinux));
}

/*
 * The cache's entry for 'key', mapped and checked as a kernel: 0, -ENOENT
 * (none), or -EINVAL with why (it is not a kernel; unmapped again).
 */
static int map_cached(const struct kernel_cache *cache, const uint8_t *key, size_t len,
		      bool populate, void **p, struct x86_vmlinux *vm, char *why, size_t whylen)
{
	if (kernel_cache_get(cache, key, len, populate, p))
		return -ENOENT;
	if (x86_vmlinux_parse(*p, len, vm, why, whylen)) {
		munmap(*p, len);
		return -EINVAL;
	}
	return 0;
}

/* The cache's copy, if it has one we can place. */
static bool unpack_from_cache(const struct kernel_cache *cache, const uint8_t *key,
			      size_t len, struct boot_files *f)
{
	char why[256];
	void *p;
	int ret = map_cached(cache, key, len, true, &p, &f->vmlinux, why, sizeof(why));

	if (ret == -EINVAL) {
		pr_warn("kernel cache: an entry in %s is not a kernel (%s): removed", cache->dir, why);
		kernel_cache_drop(cache, key);
	}
	if (ret)
		return false;
	f->unpacked = p;
	f->unpacked_len = len;
	f->unpacked_file = true;
	f->source = BOOT_KERNEL_CACHED;
	return true;
}

/* A cache entry being written from the unpacked kernel, off the boot's path. */
struct kernel_store {
	pthread_t thread;
	struct kernel_cache cache;	/* its own copy: the caller's goes away */
	uint8_t key[KERNEL_CACHE_KEY_SIZE];
	const void *data;		/* f->unpacked: read only, outlives the thread */
	size_t len;
	int ret;			/* kernel_cache_put()'s */
	int done_fd;			/* an eventfd, written when the thread ends */
};

static void *kernel_store_run(void *arg)
{
	struct kernel_store *ks = arg;
	struct timespec t0;
	char why[512];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ks->ret = kernel_cache_put(&ks->cache, ks->key, ks->data, ks->len, why, sizeof(why));
	if (ks->ret)
		pr_info("kernel cache: not used: %s", why);
	else
		pr_info("kernel cache: %s: kept in %.3f s", ks->cache.dir, clock_seconds_since(&t0));
	if (eventfd_write(ks->done_fd, 1) < 0)
		pr_warn("kernel cache: eventfd: %m");
	return NULL;
}

/* Start keeping what was unpacked in the cache, unless there is none. */
static void unpack_to_cache(const struct kernel_cache *cache, const uint8_t *key,
			    struct boot_files *f)
{
	struct kernel_store *ks;

	if (!cache->dir) {
		pr_info("kernel cache: off");
		return;
	}
	ks = calloc(1, sizeof(*ks));
	if (!ks || kernel_cache_init(&ks->cache, cache->dir)) {
		free(ks);
		return;
	}
	memcpy(ks->key, key, sizeof(ks->key));
	ks->data = f->unpacked;
	ks->len = f->unpacked_len;
	ks->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* Stop signals must reach vmm's signalfd, blocked only after this. */
	if (ks->done_fd < 0 || thread_start_quiet(&ks->thread, kernel_store_run, ks)) {
		if (ks->done_fd >= 0)
			close(ks->done_fd);
		kernel_cache_free(&ks->cache);
		free(ks);
		return;
	}
	f->store = ks;
}

static void kernel_store_end(struct boot_files *f)
{
	close(f->store->done_fd);
	kernel_cache_free(&f->store->cache);
	free(f->store);
	f->store = NULL;
}

int boot_files_store_fd(const struct boot_files *f)
{
	return f->store ? f->store->done_fd : -1;
}

static void kernel_store_wait(struct boot_files *f)
{
	if (!f->store)
		return;
	pthread_join(f->store->thread, NULL);
	kernel_store_end(f);
}

/*
 * Once the cache holds what we unpacked, the cache's file serves later
 * boots: its pages are shared, and can be given back between boots.
 */
static void kernel_store_adopt(struct boot_files *f)
{
	struct kernel_store *ks = f->store;
	struct x86_vmlinux vm;
	eventfd_t done;
	char why[256];
	void *p;

	/* Its eventfd is the thread's last act: once it reads, join at once. */
	if (!ks || eventfd_read(ks->done_fd, &done) < 0)
		return;
	pthread_join(ks->thread, NULL);
	if (!ks->ret && !map_cached(&ks->cache, ks->key, ks->len, false, &p, &vm, why, sizeof(why))) {
		munmap(f->unpacked, f->unpacked_len);
		f->unpacked = p;
		f->vmlinux = vm;
		f->unpacked_file = true;
	}
	kernel_store_end(f);
}

void boot_files_loaded(struct boot_files *f)
{
	kernel_store_adopt(f);
	/* The next boot faults them back from the page cache. */
	if (f->unpacked && f->unpacked_file)
		madvise(f->unpacked, f->unpacked_len, MADV_DONTNEED);
}

/*
 * Unpack a bzImage's kernel: from the cache, or by decompressing it. 0 with
 * f->source set (BOOT_KERNEL_GUEST when vmm leaves it to the guest), or an
 * error when the payload is corrupt.
 */
static int kernel_unpack(const char *path, const struct x86_bzimage *img,
			 const struct kernel_cache *cache, struct boot_files *f,
			 char *err, size_t errlen)
{
	uint8_t key[KERNEL_CACHE_KEY_SIZE];
	const void *payload;
	size_t plen, ulen;
	enum unpack_format fmt;
	struct timespec t0;
	char why[512];
	int ret;

	f->source = BOOT_KERNEL_GUEST;
	ret = x86_bzimage_payload(img, &payload, &plen, &ulen, why, sizeof(why));
	if (ret) {
		pr_warn("kernel: %s: %s; its own decompressor will run", path, why);
		return 0;
	}
	fmt = unpack_detect(payload, plen);
	if (!unpack_supported(fmt)) {
		pr_info("kernel: %s: its %s payload is left to its own decompressor (vmm decompresses gzip, xz, lzma and zstd)",
			path, unpack_format_name(fmt));
		return 0;
	}
	if (!ulen || ulen > BOOT_UNPACKED_MAX) {
		snprintf(err, errlen, "kernel: %s: its %s payload says it unpacks to %zu bytes, expected 1 to %llu",
			 path, unpack_format_name(fmt), ulen, BOOT_UNPACKED_MAX);
		return -EINVAL;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* The key is the SHA-256 of the whole payload: no cache, no hashing. */
	if (cache->dir)
		kernel_cache_key(payload, plen, key);
	if (cache->dir && unpack_from_cache(cache, key, ulen, f)) {
		pr_info("kernel: %s: unpacked kernel (%.1f MiB) from the kernel cache %s in %.3f s",
			path, ulen / 1048576.0, cache->dir, clock_seconds_since(&t0));
		return 0;
	}

	f->unpacked = mmap(NULL, ulen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->unpacked == MAP_FAILED) {
		f->unpacked = NULL;
		snprintf(err, errlen, "kernel: %s: no memory to unpack it (%zu bytes)", path, ulen);
		return -ENOMEM;
	}
	/* Tens of MiB written once: fewer, larger page faults. */
	madvise(f->unpacked, ulen, MADV_HUGEPAGE);
	f->unpacked_len = ulen;
	ret = unpack(fmt, payload, plen, f->unpacked, ulen, why, sizeof(why));
	if (ret == -ENOTSUP) {
		drop_unpacked(f);
		pr_warn("kernel: %s: vmm does not decode its compressed kernel (%s); its own decompressor will run",
			path, why);
		return 0;
	}
	if (ret) {
		drop_unpacked(f);
		snprintf(err, errlen, "kernel: %s: its compressed kernel: %s", path, why);
		return ret;
	}
	if (x86_vmlinux_parse(f->unpacked, ulen, &f->vmlinux, why, sizeof(why))) {
		drop_unpacked(f);
		pr_warn("kernel: %s: vmm cannot place what it unpacked (%s); its own decompressor will run",
			path, why);
		return 0;
	}
	f->source = BOOT_KERNEL_UNPACKED;
	pr_info("kernel: %s: %s payload (%.1f MiB) unpacked in %.3f s to %.1f MiB, %zu relocations",
		path, unpack_format_name(fmt), plen / 1048576.0, clock_seconds_since(&t0),
		ulen / 1048576.0, f->vmlinux.nr_relocs[0] + f->vmlinux.nr_relocs[1] +
		f->vmlinux.nr_relocs[2]);
	unpack_to_cache(cache, key, f);
	return 0;
}

int boot_files_load(const struct machine_config *mc, const struct kernel_cache *cache,
		    struct boot_files *f, char *err, size_t errlen)
{
	struct loaded_file k = { 0 }, i = { 0 };
	struct x86_bzimage img;
	char why[512];
	int ret;

	memset(f, 0, sizeof(*f));
	ret = load_file(mc->kernel, "kernel", &k, err, errlen);
	if (ret)
		return ret;
	f->kernel = k.data;
	f->kernel_size = k.size;
	if (x86_is_elf(k.data, k.size)) {
		ret = x86_vmlinux_parse(k.data, k.size, &f->vmlinux, why, sizeof(why));
		if (ret) {
			snprintf(err, errlen, "kernel: %s: %s", mc->kernel, why);
			goto fail;
		}
		f->source = BOOT_KERNEL_ELF;
	} else {
		ret = x86_bzimage_parse(k.data, k.size, &img, why, sizeof(why));
		if (ret) {
			/* why starts with "kernel: ". */
			snprintf(err, errlen, "kernel: %s:%s", mc->kernel,
				 strncmp(why, "kernel:", 7) ? why : why + 7);
			goto fail;
		}
		if (mc->decompress == DECOMPRESS_VMM) {
			ret = kernel_unpack(mc->kernel, &img, cache, f, err, errlen);
			if (ret)
				goto fail;
		}
	}
	if (mc->initrd) {
		ret = load_file(mc->initrd, "initrd", &i, err, errlen);
		if (ret)
			goto fail;
	}
	f->initrd = i.data;
	f->initrd_size = i.size;
	return 0;
fail:
	boot_files_free(f);
	return ret;
}

void boot_files_free(struct boot_files *f)
{
	kernel_store_wait(f);
	drop_unpacked(f);
	free(f->kernel);
	free(f->initrd);
	memset(f, 0, sizeof(*f));
}
