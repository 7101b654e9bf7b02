/*
 * The kernel cache: what vmm unpacked from a bzImage, kept as a file named
 * by the SHA-256 of the compressed payload, so that booting the same
 * kernel again needs no decompression. A cache that cannot be used is no
 * error: vmm then unpacks the kernel each time.
 */
#ifndef VMM_KERNEL_CACHE_H
#define VMM_KERNEL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KERNEL_CACHE_KEY_SIZE	32	/* SHA-256 */
#define KERNEL_CACHE_MAX_ENTRIES	4	/* the least recently used go first */

struct kernel_cache {
	char *dir;			/* NULL: no cache */
};

/*
 * Where the cache is: 'spec' a directory, "off", or NULL for
 * $XDG_CACHE_HOME/vmm/kernels (or $HOME/.cache/vmm/kernels). Nothing is
 * created yet. 0 (c->dir NULL when off, or when there is no home to
 * default to) or -ENOMEM.
 */
int kernel_cache_init(struct kernel_cache *c, const char *spec);
void kernel_cache_free(struct kernel_cache *c);

/* The key of a compressed payload. */
void kernel_cache_key(const void *payload, size_t len, uint8_t key[KERNEL_CACHE_KEY_SIZE]);

/*
 * The cached file for 'key', 'len' bytes, mapped read-only at *data (its
 * pages read in at once with 'populate'): 0, or -ENOENT when the cache has
 * none (or one that is not ours: a directory or file owned by someone else
 * or writable by others, a size that differs; such an entry is removed when
 * we may). Marks the entry as just used.
 */
int kernel_cache_get(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE],
		     size_t len, bool populate, void **data);

/*
 * Store 'len' bytes under 'key' (the directory made 0700 if missing; written
 * to a temporary file, flushed to disk, then renamed into place, so that a
 * crash leaves the whole entry or none), then remove the least
 * recently used entries beyond KERNEL_CACHE_MAX_ENTRIES. 0, or a negative
 * errno with why in err.
 */
int kernel_cache_put(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE],
		     const void *data, size_t len, char *err, size_t errlen);

/* Remove the entry for 'key' (one that turned out unusable). */
void kernel_cache_drop(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE]);

#endif
