/*
 * The kernel cache's files: SHA-256 keys, entries read by mmap, written by
 * rename, used only when the directory and the file are the user's own,
 * and kept to a few entries, least recently used first out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/kernel_cache.h"

#define ENTRY_SUFFIX	".vmlinux"
#define TMP_PREFIX	".tmp-"
#define TMP_MAX_AGE	(24 * 3600)	/* a temporary file older than this was left behind */

int kernel_cache_init(struct kernel_cache *c, const char *spec)
{
	const char *base;
	char path[PATH_MAX];

	c->dir = NULL;
	if (spec && !strcmp(spec, "off"))
		return 0;
	if (spec) {
		c->dir = strdup(spec);
		return c->dir ? 0 : -ENOMEM;
	}
	base = getenv("XDG_CACHE_HOME");
	if (base && base[0] == '/') {
		snprintf(path, sizeof(path), "%s/vmm/kernels", base);
	} else {
		base = getenv("HOME");
		if (!base || base[0] != '/')
			return 0;
		snprintf(path, sizeof(path), "%s/.cache/vmm/kernels", base);
	}
	c->dir = strdup(path);
	return c->dir ? 0 : -ENOMEM;
}

void kernel_cache_free(struct kernel_cache *c)
{
	free(c->dir);
	c->dir = NULL;
}

void kernel_cache_key(const void *payload, size_t len, uint8_t key[KERNEL_CACHE_KEY_SIZE])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, payload);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, key);
}

static void entry_path(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE],
		       char *path, size_t len)
{
	char hex[2 * KERNEL_CACHE_KEY_SIZE + 1];

	for (unsigned int i = 0; i < KERNEL_CACHE_KEY_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	snprintf(path, len, "%s/%s" ENTRY_SUFFIX, c->dir, hex);
}

/* Ours alone: owned by us, not writable by group or others. */
static bool ours(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int dir_usable(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || !ours(&st))
		return -EPERM;
	return 0;
}

int kernel_cache_get(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE],
		     size_t len, bool populate, void **data)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;
	int fd;

	*data = NULL;
	if (!c->dir || !len || dir_usable(c->dir))
		return -ENOENT;
	entry_path(c, key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode) || !ours(&st) || (uint64_t)st.st_size != len) {
		/* Not what we would have written: out of the way with it. */
		if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
			unlink(path);
		close(fd);
		return -ENOENT;
	}
	/* Populated for a boot: it copies all of it into guest memory. */
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -ENOENT;
	}
	/* Just used: the eviction goes by modification time. */
	futimens(fd, NULL);
	close(fd);
	*data = p;
	return 0;
}

void kernel_cache_drop(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE])
{
	char path[PATH_MAX];

	if (!c->dir || dir_usable(c->dir))
		return;
	entry_path(c, key, path, sizeof(path));
	unlink(path);
}

/* mkdir -p, each directory it makes private (0700). */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct cache_entry {
	char name[NAME_MAX + 1];
	struct timespec mtime;
};

static int entry_older(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

static bool is_entry_name(const char *name)
{
	size_t n = strlen(name), s = strlen(ENTRY_SUFFIX);

	if (n != 2 * KERNEL_CACHE_KEY_SIZE + s || strcmp(name + n - s, ENTRY_SUFFIX))
		return false;
	return strspn(name, "0123456789abcdef") == 2 * KERNEL_CACHE_KEY_SIZE;
}

/* Keep the KERNEL_CACHE_MAX_ENTRIES most recently used; clear old leftovers. */
static void evict(const char *dir)
{
	struct cache_entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	time_t now = time(NULL);
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		struct stat st;

		if (fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(d->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) {
			if (now - st.st_mtime > TMP_MAX_AGE)
				unlinkat(dirfd(dp), d->d_name, 0);
			continue;
		}
		if (!is_entry_name(d->d_name))
			continue;
		if (n == cap) {
			struct cache_entry *ne = realloc(e, (cap ? cap * 2 : 8) * sizeof(*e));

			if (!ne)
				break;
			e = ne;
			cap = cap ? cap * 2 : 8;
		}
		snprintf(e[n].name, sizeof(e[n].name), "%s", d->d_name);
		e[n].mtime = st.st_mtim;
		n++;
	}
	if (n > KERNEL_CACHE_MAX_ENTRIES) {
		qsort(e, n, sizeof(*e), entry_older);
		for (size_t i = 0; i < n - KERNEL_CACHE_MAX_ENTRIES; i++)
			unlinkat(dirfd(dp), e[i].name, 0);
	}
	free(e);
	closedir(dp);
}

int kernel_cache_put(const struct kernel_cache *c, const uint8_t key[KERNEL_CACHE_KEY_SIZE],
		     const void *data, size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, ret;

	if (!c->dir) {
		snprintf(err, errlen, "no cache directory");
		return -ENOENT;
	}
	ret = make_dirs(c->dir);
	if (!ret)
		ret = dir_usable(c->dir);
	if (ret) {
		snprintf(err, errlen, "%s: %s", c->dir,
			 ret == -EPERM ? "not a directory of this user's alone" : strerror(-ret));
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s/" TMP_PREFIX "XXXXXX", c->dir);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", c->dir, strerror(errno));
		return ret;
	}
	ret = write_all(fd, data, len);
	/* On disk before it has its name: a crash must not leave half an entry. */
	if (!ret && fdatasync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	entry_path(c, key, path, sizeof(path));
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", c->dir, strerror(-ret));
		return ret;
	}
	evict(c->dir);
	return 0;
}
