/*
 * vmm/kernel_cache and vmm/boot_files on real files in a temporary folder:
 * where the cache lives, entries written, mapped, replaced, evicted least
 * recently used first, refused when not the user's own; and a bzImage made
 * here (a synthetic ELF kernel, compressed) unpacked, cached, taken from the
 * cache, left to the guest or refused, as boot_files_load() decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "kernel_image.h"
#include "util/log.h"
#include "util/thread.h"
#include "vmm/boot_files.h"
#include "vmm/kernel_cache.h"

static char tmp[64], err[1024];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/vmm-kc-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	log_init("test", LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* tmp/rel, kept until the test binary ends. */
static char *path(const char *rel)
{
	char *r = malloc(strlen(tmp) + strlen(rel) + 2);

	assert_non_null(r);
	sprintf(r, "%s/%s", tmp, rel);
	return r;
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static void key_of(uint8_t key[KERNEL_CACHE_KEY_SIZE], unsigned int n)
{
	memset(key, 0, KERNEL_CACHE_KEY_SIZE);
	key[0] = (uint8_t)n;
	key[31] = 0xab;
}

/* The entry file of a key made by key_of(). */
static char *entry_of(const char *dir, unsigned int n)
{
	static char p[256];
	uint8_t key[KERNEL_CACHE_KEY_SIZE];
	int len;

	key_of(key, n);
	len = snprintf(p, sizeof(p), "%s/", dir);
	for (unsigned int i = 0; i < KERNEL_CACHE_KEY_SIZE; i++)
		len += snprintf(p + len, sizeof(p) - (size_t)len, "%02x", key[i]);
	snprintf(p + len, sizeof(p) - (size_t)len, ".vmlinux");
	return p;
}

static void set_mtime(const char *p, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_where(void **state)
{
	struct kernel_cache c;

	(void)state;
	assert_int_equal(kernel_cache_init(&c, "off"), 0);
	assert_null(c.dir);
	assert_int_equal(kernel_cache_init(&c, "/some/dir"), 0);
	assert_string_equal(c.dir, "/some/dir");
	kernel_cache_free(&c);
	setenv("XDG_CACHE_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(kernel_cache_init(&c, NULL), 0);
	assert_string_equal(c.dir, "/xdg/vmm/kernels");
	kernel_cache_free(&c);
	/* XDG's variables must hold absolute paths; a relative one is ignored. */
	setenv("XDG_CACHE_HOME", "rel", 1);
	assert_int_equal(kernel_cache_init(&c, NULL), 0);
	assert_string_equal(c.dir, "/home/u/.cache/vmm/kernels");
	kernel_cache_free(&c);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(kernel_cache_init(&c, NULL), 0);
	assert_null(c.dir);
}

static void test_key(void **state)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t key[KERNEL_CACHE_KEY_SIZE];

	(void)state;
	kernel_cache_key("abc", 3, key);
	assert_memory_equal(key, abc, sizeof(abc));
}

static void test_put_get(void **state)
{
	struct kernel_cache c = { .dir = path("a/b/kernels") };
	uint8_t key[KERNEL_CACHE_KEY_SIZE], data[10000];
	struct stat st;
	void *p;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	key_of(key, 1);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), -ENOENT);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	/* The folders it made are private. */
	assert_int_equal(stat(c.dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(path("a"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_true(exists(entry_of(c.dir, 1)));
	set_mtime(entry_of(c.dir, 1), 1000);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), 0);
	assert_memory_equal(p, data, sizeof(data));
	munmap(p, sizeof(data));
	/* A hit marks it as just used. */
	assert_int_equal(stat(entry_of(c.dir, 1), &st), 0);
	assert_true(st.st_mtime > 1000);
	/* Not the size expected: not ours to use, and cleared away. */
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data) + 1, false, &p), -ENOENT);
	assert_false(exists(entry_of(c.dir, 1)));
	/* Put again, and dropped. */
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	kernel_cache_drop(&c, key);
	assert_false(exists(entry_of(c.dir, 1)));
	/* No cache: nothing found, nothing kept. */
	c.dir = NULL;
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), -ENOENT);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), -ENOENT);
}

static void test_evict(void **state)
{
	struct kernel_cache c = { .dir = path("evict") };
	uint8_t key[KERNEL_CACHE_KEY_SIZE], data[100] = { 1 };
	void *p;

	(void)state;
	/* Entries 1..4, used in that order; a fifth pushes out the first. */
	for (unsigned int i = 1; i <= 5; i++) {
		key_of(key, i);
		assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
		set_mtime(entry_of(c.dir, i), 1000 + i);
	}
	assert_false(exists(entry_of(c.dir, 1)));
	for (unsigned int i = 2; i <= 5; i++)
		assert_true(exists(entry_of(c.dir, i)));
	/* Using 2 makes 3 the least recently used. */
	key_of(key, 2);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), 0);
	munmap(p, sizeof(data));
	key_of(key, 6);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	assert_false(exists(entry_of(c.dir, 3)));
	assert_true(exists(entry_of(c.dir, 2)));
	assert_true(exists(entry_of(c.dir, 6)));
	/* Other files are left alone; old temporary ones are cleared. */
	close(open(path("evict/notes.txt"), O_CREAT | O_WRONLY, 0600));
	close(open(path("evict/.tmp-old"), O_CREAT | O_WRONLY, 0600));
	close(open(path("evict/.tmp-new"), O_CREAT | O_WRONLY, 0600));
	set_mtime(path("evict/.tmp-old"), 1000);
	key_of(key, 7);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	assert_true(exists(path("evict/notes.txt")));
	assert_false(exists(path("evict/.tmp-old")));
	assert_true(exists(path("evict/.tmp-new")));
}

static void test_not_ours(void **state)
{
	struct kernel_cache c = { .dir = path("shared") };
	uint8_t key[KERNEL_CACHE_KEY_SIZE], data[100] = { 2 };
	void *p;

	(void)state;
	key_of(key, 1);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	/* A folder others may write to: anyone could have planted a kernel. */
	assert_int_equal(chmod(c.dir, 0777), 0);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), -ENOENT);
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "not a directory of this user's alone"));
	assert_int_equal(chmod(c.dir, 0700), 0);
	/* An entry others may write to. */
	assert_int_equal(chmod(entry_of(c.dir, 1), 0666), 0);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), -ENOENT);
	/* A symbolic link in an entry's place is not followed. */
	assert_int_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
	assert_int_equal(rename(entry_of(c.dir, 1), path("shared/real")), 0);
	assert_int_equal(symlink(path("shared/real"), entry_of(c.dir, 1)), 0);
	assert_int_equal(kernel_cache_get(&c, key, sizeof(data), true, &p), -ENOENT);
	/* A file where the folder should be. */
	close(open(path("file"), O_CREAT | O_WRONLY, 0600));
	c.dir = path("file");
	assert_int_not_equal(kernel_cache_put(&c, key, data, sizeof(data), err, sizeof(err)), 0);
}

/* --- the cache's writer thread takes no signal -------------------------- */

static void *report_mask(void *arg)
{
	sigset_t *mask = arg;

	pthread_sigmask(SIG_SETMASK, NULL, mask);
	return NULL;
}

static void test_quiet_thread(void **state)
{
	sigset_t mask, none;
	pthread_t t;

	(void)state;
	/* Started from a thread that blocks nothing, as vmm is at that point. */
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	assert_int_equal(thread_start_quiet(&t, report_mask, &mask), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(sigismember(&mask, SIGTERM));
	assert_true(sigismember(&mask, SIGINT));
	assert_true(sigismember(&mask, SIGHUP));
	assert_true(sigismember(&mask, SIGPIPE));
	/* The caller's own mask is as it was. */
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	assert_false(sigismember(&mask, SIGTERM));
}

/* --- boot_files_load() ---------------------------------------------------- */

static const char *write_file(const char *rel, const void *data, size_t len)
{
	char *p = path(rel);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

/* A bzImage carrying 'elf' compressed by 'compress' (a payload_* helper). */
static const char *bzimage_file(const char *rel, const uint8_t *elf, size_t elen,
				uint8_t *(*compress)(const uint8_t *, size_t, size_t *),
				void (*damage)(uint8_t *payload, size_t len))
{
	struct img_opts o = img_default();
	size_t clen, klen;
	uint8_t *c = compress(elf, elen, &clen), *k;
	const char *p;

	if (damage)
		damage(c, clen);
	o.data = c;
	o.data_len = clen;
	k = img_build(&o, &klen);
	p = write_file(rel, k, klen);
	free(c);
	free(k);
	return p;
}

static int load(const char *kernel, enum kernel_decompress d, const char *cache_dir,
		struct boot_files *f)
{
	struct machine_config mc = { .kernel = (char *)kernel, .decompress = d };
	struct kernel_cache c = { .dir = cache_dir ? strdup(cache_dir) : NULL };
	int ret;

	err[0] = '\0';
	ret = boot_files_load(&mc, &c, f, err, sizeof(err));
	kernel_cache_free(&c);
	return ret;
}

static void flip_middle(uint8_t *p, size_t len)
{
	p[len / 2] ^= 0x40;
}

static void lz4_magic(uint8_t *p, size_t len)
{
	(void)len;
	memcpy(p, "\x02\x21\x4c\x18", 4);
}

static void test_boot_files(void **state)
{
	struct elf_spec es = elf_spec_relocs();
	const char *cache = path("cache");
	struct boot_files f;
	size_t elen;
	uint8_t *elf = elf_build(&es, &elen);
	const char *bz = bzimage_file("bzImage", elf, elen, payload_xz, NULL);
	struct stat st;

	(void)state;
	/* First boot: unpacked by vmm, and kept. */
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_UNPACKED);
	assert_int_equal(f.unpacked_len, elen);
	assert_memory_equal(f.unpacked, elf, elen);
	assert_false(f.unpacked_file);
	assert_int_equal(f.vmlinux.base, ELF_BASE);
	assert_int_equal(f.vmlinux.nr_relocs[X86_RELOC_64], 2);
	/* Once the cache has it, vmm's copy gives way to the cache's file. */
	{
		struct pollfd pfd = { .fd = boot_files_store_fd(&f), .events = POLLIN };

		assert_true(pfd.fd >= 0);
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		boot_files_loaded(&f);
		assert_int_equal(boot_files_store_fd(&f), -1);
		assert_true(f.unpacked_file);
		/* Its pages given back, and read again from the file when needed. */
		assert_memory_equal(f.unpacked, elf, elen);
		assert_ptr_equal(f.vmlinux.data, f.unpacked);
		assert_int_equal(f.vmlinux.nr_relocs[X86_RELOC_64], 2);
	}
	boot_files_free(&f);
	assert_int_equal(stat(cache, &st), 0);
	/* Then from the cache. */
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_CACHED);
	assert_memory_equal(f.unpacked, elf, elen);
	assert_int_equal(f.vmlinux.nr_relocs[X86_RELOC_32], 1);
	boot_files_free(&f);
	/* Before the cache's entry is written, a boot keeps vmm's copy. */
	assert_int_equal(load(bz, DECOMPRESS_VMM, path("cache-slow"), &f), 0);
	boot_files_loaded(&f);		/* most likely still writing: nothing changes */
	assert_memory_equal(f.unpacked, elf, elen);
	boot_files_free(&f);		/* waits for the thread */
	/* kernel-decompress = guest: the bzImage as it is. */
	assert_int_equal(load(bz, DECOMPRESS_GUEST, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_GUEST);
	assert_null(f.unpacked);
	boot_files_free(&f);
	/* No cache: unpacked each time. */
	assert_int_equal(load(bz, DECOMPRESS_VMM, NULL, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_UNPACKED);
	boot_files_free(&f);

	/* Each format Linux's build may use, that vmm decodes. */
	bz = bzimage_file("bz-gzip", elf, elen, payload_gzip, NULL);
	assert_int_equal(load(bz, DECOMPRESS_VMM, NULL, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_UNPACKED);
	boot_files_free(&f);
	bz = bzimage_file("bz-zstd", elf, elen, payload_zstd, NULL);
	assert_int_equal(load(bz, DECOMPRESS_VMM, NULL, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_UNPACKED);
	boot_files_free(&f);

	/* An ELF vmlinux given as the kernel: taken as it is. */
	assert_int_equal(load(write_file("vmlinux", elf, elen), DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_ELF);
	assert_int_equal(f.vmlinux.nr_segs, 3);
	boot_files_free(&f);
	free(elf);
}

static void test_boot_files_bad(void **state)
{
	struct elf_spec es = elf_spec_relocs();
	const char *cache = path("cache2");
	struct boot_files f;
	size_t elen;
	uint8_t *elf = elf_build(&es, &elen);
	const char *bz;
	char entry[512];
	uint8_t *junk;

	(void)state;
	/* A corrupt compressed kernel: refused before anything starts. */
	bz = bzimage_file("bz-corrupt", elf, elen, payload_xz, flip_middle);
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), -EINVAL);
	assert_non_null(strstr(err, "kernel: "));
	assert_non_null(strstr(err, "bz-corrupt: its compressed kernel: xz: "));
	/* A format vmm does not decode: the guest's decompressor runs. */
	bz = bzimage_file("bz-lz4", elf, elen, payload_xz, lz4_magic);
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_GUEST);
	boot_files_free(&f);
	/* Unpacks to something vmm cannot place: left to the guest. */
	junk = calloc(1, 4096);
	assert_non_null(junk);
	memcpy(junk, "\x7f" "ELF", 4);
	bz = bzimage_file("bz-notelf", junk, 4096, payload_gzip, NULL);
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_GUEST);
	boot_files_free(&f);
	/* A bad ELF kernel file is refused with why. */
	assert_int_equal(load(write_file("bad-vmlinux", junk, 4096), DECOMPRESS_VMM, NULL, &f),
			 -EINVAL);
	assert_non_null(strstr(err, "bad-vmlinux: not a 64-bit"));
	free(junk);

	/* A damaged cache entry of the right size: noticed, replaced. */
	bz = bzimage_file("bz-ok", elf, elen, payload_xz, NULL);
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	boot_files_free(&f);
	{
		FILE *p;
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "ls %s/*.vmlinux", cache);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(entry, sizeof(entry), p));
		pclose(p);
		entry[strcspn(entry, "\n")] = '\0';
	}
	junk = calloc(1, elen);
	assert_non_null(junk);
	{
		FILE *e = fopen(entry, "wb");

		assert_non_null(e);
		assert_int_equal(fwrite(junk, 1, elen, e), elen);
		fclose(e);
	}
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_UNPACKED);
	assert_memory_equal(f.unpacked, elf, elen);
	boot_files_free(&f);
	/* ...and the entry is good again. */
	assert_int_equal(load(bz, DECOMPRESS_VMM, cache, &f), 0);
	assert_int_equal(f.source, BOOT_KERNEL_CACHED);
	boot_files_free(&f);
	free(junk);
	free(elf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_quiet_thread),
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_files_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
