/*
 * Host inventory: reads what a plan needs about a host PCI function from
 * sysfs, or from a fixture tree laid out like it. Names come from libpci's
 * ID database; the live host is enumerated with libudev.
 *
 * Every sysfs attribute and the config space are read with plain file reads,
 * for the live host and fixture trees alike: libpci's sysfs back-end calls
 * its error hook, which must not return, on any malformed file, and library
 * code must survive a bad fixture. libpci serves only the name lookups (with
 * an error hook that longjmps back, should pci.ids itself be corrupt).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libudev.h>
#include <pci/pci.h>

#include "util/log.h"
#include "vfio/host_priv.h"

#define LIVE_SYSFS	"/sys"
#define LIVE_DEV	"/dev"
#define ATTR_MAX	256		/* longest sysfs attribute we read, plus NUL */
#define RESOURCE_MAX	4096		/* a resource file is ~1 KiB */

struct host_inventory {
	char *sysfs_root;
	char *dev_root;
	bool live;			/* sysfs_root was NULL: enumerate with libudev */
	struct pci_access *pacc;	/* names; NULL until first used */
	bool names_broken;		/* pci.ids could not be parsed: names stay "" */
};

/* ------------------------------------------------------------ small helpers */

static int path_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Read up to len bytes from fd; bytes read or -errno. */
static ssize_t read_fd(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Read at most len - 1 bytes of a text file and NUL-terminate; bytes read or -errno. */
static ssize_t read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read_fd(fd, buf, len - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return n;
}

/* A number as sysfs prints it ("0x10de\n", "-1\n"); -EINVAL when it is not one. */
static int parse_num(const char *s, long long min, long long max, long long *out)
{
	long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (*end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int read_num(const char *dir, const char *name, long long min, long long max,
		    long long *out)
{
	char path[PATH_MAX], buf[ATTR_MAX];
	ssize_t n;
	int ret;

	ret = path_fmt(path, sizeof(path), "%s/%s", dir, name);
	if (ret)
		return ret;
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return parse_num(buf, min, max, out);
}

/* Copy printable ASCII, '?' for anything else; always NUL-terminated. */
static void copy_clean(char *dst, size_t size, const char *src, size_t len)
{
	size_t i, j = 0;

	for (i = 0; i < len && src[i] && j + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[j] = '\0';
}

/* The last path component of a symlink's target; "" and 0 when there is no link. */
static int read_link_base(const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	out[0] = '\0';
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	copy_clean(out, size, base, strlen(base));
	return 0;
}

static int bdf_qsort_cmp(const void *a, const void *b)
{
	return pci_bdf_cmp(a, b);
}

/* ------------------------------------------------------------ open / close */

struct host_inventory *host_inventory_open(const char *sysfs_root,
					   const char *dev_root)
{
	struct host_inventory *inv;

	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return NULL;
	inv->live = !sysfs_root;
	inv->sysfs_root = strdup(sysfs_root ? sysfs_root : LIVE_SYSFS);
	inv->dev_root = strdup(dev_root ? dev_root : LIVE_DEV);
	if (!inv->sysfs_root || !inv->dev_root) {
		host_inventory_close(inv);
		errno = ENOMEM;
		return NULL;
	}
	if (!inv->live) {
		char path[PATH_MAX];
		struct stat st;

		if (path_fmt(path, sizeof(path), "%s/bus/pci/devices", sysfs_root)) {
			host_inventory_close(inv);
			errno = ENAMETOOLONG;
			return NULL;
		}
		if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
			pr_debug("host: %s is not a directory", path);
			host_inventory_close(inv);
			errno = ENOENT;
			return NULL;
		}
	}
	return inv;
}

void host_inventory_close(struct host_inventory *inv)
{
	if (!inv)
		return;
	if (inv->pacc)
		pci_cleanup(inv->pacc);
	free(inv->sysfs_root);
	free(inv->dev_root);
	free(inv);
}

/* ------------------------------------------------------------ names */

/* libpci calls this on a corrupt pci.ids and must not see it return. */
static __thread sigjmp_buf *names_jmp;

static void names_error(char *msg, ...) __attribute__((noreturn));

static void names_error(char *msg, ...)
{
	(void)msg;
	if (names_jmp)
		siglongjmp(*names_jmp, 1);
	abort();	/* not reached: every libpci call below sets names_jmp */
}

static void names_quiet(char *msg, ...)
{
	(void)msg;
}

static void copy_name(char *dst, size_t size, const char *name)
{
	if (!name) {
		dst[0] = '\0';
		return;
	}
	copy_clean(dst, size, name, strlen(name));
}

struct names {
	char vendor[HOST_NAME_MAX], device[HOST_NAME_MAX], class[HOST_NAME_MAX];
	const char *v, *d, *c;
};

static void lookup_raw(struct pci_access *pacc, const struct host_device *dev,
		       int flags, struct names *nm)
{
	nm->v = pci_lookup_name(pacc, nm->vendor, sizeof(nm->vendor),
				flags | PCI_LOOKUP_VENDOR, dev->vendor);
	nm->d = pci_lookup_name(pacc, nm->device, sizeof(nm->device),
				flags | PCI_LOOKUP_DEVICE, dev->vendor, dev->device);
	nm->c = pci_lookup_name(pacc, nm->class, sizeof(nm->class),
				flags | PCI_LOOKUP_CLASS, (int)(dev->class_code >> 8));
}

static void lookup_names(struct host_inventory *inv, struct host_device *dev)
{
	struct names nm = { .v = NULL };
	sigjmp_buf jb;

	dev->vendor_name[0] = dev->device_name[0] = dev->class_name[0] = '\0';
	if (inv->names_broken)
		return;
	if (!inv->pacc) {
		inv->pacc = pci_alloc();
		if (!inv->pacc)
			return;
		inv->pacc->error = names_error;
		inv->pacc->warning = names_quiet;
		inv->pacc->debug = names_quiet;
		if (!inv->live)		/* fixtures: pci.ids only, not this host's hwdb */
			pci_set_param(inv->pacc, "hwdb.disable", "1");
	}
	if (sigsetjmp(jb, 0)) {
		names_jmp = NULL;
		inv->names_broken = true;
		pr_debug("host: the PCI ID database could not be read; no names");
		return;
	}
	names_jmp = &jb;
	lookup_raw(inv->pacc, dev, PCI_LOOKUP_NO_NUMBERS |
		   (inv->live ? 0 : PCI_LOOKUP_NO_HWDB), &nm);
	names_jmp = NULL;
	copy_name(dev->vendor_name, sizeof(dev->vendor_name), nm.v);
	copy_name(dev->device_name, sizeof(dev->device_name), nm.d);
	copy_name(dev->class_name, sizeof(dev->class_name), nm.c);
}

/* ------------------------------------------------------------ list */

static int list_add(struct pci_bdf **arr, size_t *n, size_t *cap,
		    const struct pci_bdf *bdf)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct pci_bdf *p = realloc(*arr, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = ncap;
	}
	(*arr)[(*n)++] = *bdf;
	return 0;
}

static int list_dir(const char *root, struct pci_bdf **arr, size_t *n, size_t *cap)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	ret = path_fmt(path, sizeof(path), "%s/bus/pci/devices", root);
	if (ret)
		return ret;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct pci_bdf bdf;

		if (de->d_name[0] == '.' || pci_bdf_parse(de->d_name, &bdf))
			continue;
		ret = list_add(arr, n, cap, &bdf);
		if (ret)
			break;
	}
	closedir(dir);
	return ret;
}

/* The live host through libudev; -ENODEV when udev is not usable here. */
static int list_udev(struct pci_bdf **arr, size_t *n, size_t *cap)
{
	struct udev_enumerate *en = NULL;
	struct udev_list_entry *e;
	struct udev *udev;
	int ret = -ENODEV;

	udev = udev_new();
	if (!udev)
		return -ENODEV;
	en = udev_enumerate_new(udev);
	if (!en || udev_enumerate_add_match_subsystem(en, "pci") < 0 ||
	    udev_enumerate_scan_devices(en) < 0)
		goto out;
	ret = 0;
	udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
		const char *syspath = udev_list_entry_get_name(e);
		const char *name = syspath ? strrchr(syspath, '/') : NULL;
		struct pci_bdf bdf;

		if (!name || pci_bdf_parse(name + 1, &bdf))
			continue;
		ret = list_add(arr, n, cap, &bdf);
		if (ret)
			break;
	}
out:
	udev_enumerate_unref(en);
	udev_unref(udev);
	return ret;
}

int host_device_list(struct host_inventory *inv, struct pci_bdf **out)
{
	struct pci_bdf *arr = NULL;
	size_t n = 0, cap = 0, i, j;
	int ret = -ENODEV;

	if (!inv || !out)
		return -EINVAL;
	*out = NULL;
	if (inv->live) {
		ret = list_udev(&arr, &n, &cap);
		if (ret == -ENODEV || (!ret && !n)) {
			n = 0;
			ret = list_dir(inv->sysfs_root, &arr, &n, &cap);
		}
	} else {
		ret = list_dir(inv->sysfs_root, &arr, &n, &cap);
	}
	if (ret || n > INT_MAX) {
		free(arr);
		return ret ? ret : -EOVERFLOW;
	}
	if (n)
		qsort(arr, n, sizeof(*arr), bdf_qsort_cmp);
	for (i = j = 0; i < n; i++)	/* no duplicates */
		if (!j || pci_bdf_cmp(&arr[j - 1], &arr[i]))
			arr[j++] = arr[i];
	if (!j) {
		free(arr);
		arr = NULL;
	}
	*out = arr;
	return (int)j;
}

/* ------------------------------------------------------------ one device */

static int read_config(const char *devdir, struct host_device *dev)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, ret;

	dev->config_len = 0;
	dev->config_complete = false;
	ret = path_fmt(path, sizeof(path), "%s/config", devdir);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_debug("host: %s: %s", path, strerror(errno));
		return 0;	/* facts from the other files still stand */
	}
	if (fstat(fd, &st))
		st.st_size = 0;
	n = read_fd(fd, dev->config, sizeof(dev->config));
	close(fd);
	if (n < 0) {
		pr_debug("host: %s: %s", path, strerror((int)-n));
		return 0;
	}
	dev->config_len = (unsigned int)n;
	/* sysfs sizes the file as the config space; non-root reads stop at 64 */
	dev->config_complete = (n == 256 || n == 4096) && st.st_size == n;
	return 0;
}

static int read_resource(const char *devdir, struct host_device *dev)
{
	struct host_resource res[HOST_RES_LINES];
	char path[PATH_MAX], *text;
	ssize_t n;
	int ret;

	ret = path_fmt(path, sizeof(path), "%s/resource", devdir);
	if (ret)
		return ret;
	text = malloc(RESOURCE_MAX);
	if (!text)
		return -ENOMEM;
	n = read_text(path, text, RESOURCE_MAX);
	if (n < 0) {
		pr_debug("host: %s: %s", path, strerror((int)-n));
		free(text);
		return -EIO;
	}
	ret = host_parse_resource(text, res);
	free(text);
	if (!ret)
		ret = host_decode_bars(dev, res);
	if (ret)
		pr_debug("host: %s: malformed", path);
	return ret;
}

struct peer_list {
	struct host_group_peer *v;
	size_t n, cap;
};

static int peer_cmp(const void *a, const void *b)
{
	const struct host_group_peer *pa = a, *pb = b;

	return pci_bdf_cmp(&pa->bdf, &pb->bdf);
}

/* Blocking members first, so that a truncated list still shows them. */
static int peer_cmp_blocking(const void *a, const void *b)
{
	const struct host_group_peer *pa = a, *pb = b;
	bool ba = host_peer_blocks_group(pa), bb = host_peer_blocks_group(pb);

	if (ba != bb)
		return ba ? -1 : 1;
	return pci_bdf_cmp(&pa->bdf, &pb->bdf);
}

static int read_group(struct host_inventory *inv, struct host_device *dev)
{
	char gdir[PATH_MAX], path[PATH_MAX];
	struct peer_list pl = { 0 };
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	dev->nr_peers = dev->nr_peers_total = 0;
	ret = path_fmt(gdir, sizeof(gdir), "%s/kernel/iommu_groups/%d/devices",
		       inv->sysfs_root, dev->iommu_group);
	if (ret)
		return ret;
	dir = opendir(gdir);
	if (!dir) {
		pr_debug("host: %s: %s", gdir, strerror(errno));
		return 0;	/* a group without a member list: no peers known */
	}
	while ((de = readdir(dir))) {
		struct host_group_peer peer = { 0 };
		long long cls;

		if (de->d_name[0] == '.' || pci_bdf_parse(de->d_name, &peer.bdf) ||
		    !pci_bdf_cmp(&peer.bdf, &dev->bdf))
			continue;
		if (!path_fmt(path, sizeof(path), "%s/%s/driver", gdir, de->d_name) &&
		    read_link_base(path, peer.driver, sizeof(peer.driver)))
			peer.driver[0] = '\0';
		if (!path_fmt(path, sizeof(path), "%s/%s", gdir, de->d_name) &&
		    !read_num(path, "class", 0, 0xffffff, &cls))
			peer.is_bridge = (cls >> 8) == 0x0604 || (cls >> 8) == 0x0609;
		if (pl.n == pl.cap) {
			size_t ncap = pl.cap ? pl.cap * 2 : 8;
			struct host_group_peer *p = realloc(pl.v, ncap * sizeof(*p));

			if (!p) {
				ret = -ENOMEM;
				break;
			}
			pl.v = p;
			pl.cap = ncap;
		}
		pl.v[pl.n++] = peer;
	}
	closedir(dir);
	if (!ret && pl.n) {
		size_t keep = pl.n < HOST_MAX_GROUP_PEERS ? pl.n : HOST_MAX_GROUP_PEERS;

		if (pl.n > HOST_MAX_GROUP_PEERS)
			qsort(pl.v, pl.n, sizeof(*pl.v), peer_cmp_blocking);
		qsort(pl.v, keep, sizeof(*pl.v), peer_cmp);
		memcpy(dev->peers, pl.v, keep * sizeof(*pl.v));
		dev->nr_peers = (unsigned int)keep;
		dev->nr_peers_total = pl.n > UINT_MAX ? UINT_MAX : (unsigned int)pl.n;
	}
	free(pl.v);
	return ret;
}

static void read_optional_text(const char *devdir, const char *name, char *out,
			       size_t size)
{
	char path[PATH_MAX], buf[ATTR_MAX];
	ssize_t n;
	size_t len;

	out[0] = '\0';
	if (path_fmt(path, sizeof(path), "%s/%s", devdir, name))
		return;
	n = read_text(path, buf, sizeof(buf));
	if (n <= 0)
		return;
	len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		len--;
	copy_clean(out, size, buf, len);
}

static int read_ids(const char *devdir, struct host_device *dev)
{
	long long v;
	int ret;

	ret = read_num(devdir, "vendor", 0, 0xffff, &v);
	if (ret)
		goto bad;
	dev->vendor = (uint16_t)v;
	ret = read_num(devdir, "device", 0, 0xffff, &v);
	if (ret)
		goto bad;
	dev->device = (uint16_t)v;
	ret = read_num(devdir, "class", 0, 0xffffff, &v);
	if (ret)
		goto bad;
	dev->class_code = (uint32_t)v;

	/* optional: the config space says the same when the files are absent */
	if (!read_num(devdir, "subsystem_vendor", 0, 0xffff, &v))
		dev->subsys_vendor = (uint16_t)v;
	else if (dev->header_type == 0 && dev->config_len >= 0x30)
		dev->subsys_vendor = (uint16_t)(dev->config[0x2c] | dev->config[0x2d] << 8);
	if (!read_num(devdir, "subsystem_device", 0, 0xffff, &v))
		dev->subsys_device = (uint16_t)v;
	else if (dev->header_type == 0 && dev->config_len >= 0x30)
		dev->subsys_device = (uint16_t)(dev->config[0x2e] | dev->config[0x2f] << 8);
	if (!read_num(devdir, "revision", 0, 0xff, &v))
		dev->revision = (uint8_t)v;
	else if (dev->config_len > 0x08)
		dev->revision = dev->config[0x08];
	return 0;
bad:
	pr_debug("host: %s: vendor, device or class unreadable: %s", devdir, strerror(-ret));
	return ret == -EINVAL ? -EINVAL : -EIO;
}

int host_device_read(struct host_inventory *inv, const struct pci_bdf *bdf,
		     struct host_device *dev)
{
	char devdir[PATH_MAX], path[PATH_MAX], name[PCI_BDF_STRLEN], group[32];
	struct stat st;
	long long v;
	int ret;

	if (!inv || !bdf || !dev)
		return -EINVAL;
	memset(dev, 0, sizeof(*dev));
	dev->bdf = *bdf;
	dev->iommu_group = -1;
	dev->numa_node = -1;
	pci_bdf_format(bdf, name, sizeof(name));
	ret = path_fmt(devdir, sizeof(devdir), "%s/bus/pci/devices/%s", inv->sysfs_root, name);
	if (ret)
		return ret;
	if (stat(devdir, &st))
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOENT;

	ret = read_config(devdir, dev);
	if (ret)
		return ret;
	if (dev->config_len > 0x0e)
		dev->header_type = dev->config[0x0e] & 0x7f;
	if (dev->config_len > 0x3d && dev->config[0x3d] <= 4)
		dev->intx_pin = dev->config[0x3d];
	ret = read_ids(devdir, dev);
	if (ret)
		return ret;
	if (dev->config_len <= 0x0e)	/* no header to look at: trust the class */
		dev->header_type = (dev->class_code >> 8) == 0x0604 ? 1 : 0;
	ret = read_resource(devdir, dev);
	if (ret)
		return ret;
	host_parse_caps(dev);

	ret = path_fmt(path, sizeof(path), "%s/iommu_group", devdir);
	if (ret)
		return ret;
	ret = read_link_base(path, group, sizeof(group));
	if (ret)
		return ret;
	if (group[0] && !parse_num(group, 0, INT_MAX, &v))
		dev->iommu_group = (int)v;
	else if (group[0])
		pr_debug("host: %s: iommu_group link names no group", devdir);
	if (dev->iommu_group >= 0) {
		ret = read_group(inv, dev);
		if (ret)
			return ret;
	}

	ret = path_fmt(path, sizeof(path), "%s/driver", devdir);
	if (ret)
		return ret;
	ret = read_link_base(path, dev->driver, sizeof(dev->driver));
	if (ret)
		return ret;
	if (!read_num(devdir, "numa_node", -1, INT_MAX, &v))
		dev->numa_node = (int)v;
	read_optional_text(devdir, "reset_method", dev->reset_method,
			   sizeof(dev->reset_method));
	if (dev->iommu_group >= 0) {
		ret = path_fmt(path, sizeof(path), "%s/vfio/%d", inv->dev_root,
			       dev->iommu_group);
		if (ret)
			return ret;
		dev->vfio_dev_exists = !access(path, F_OK);
	}
	lookup_names(inv, dev);
	return 0;
}
