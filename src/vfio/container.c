/*
 * The VM's VFIO context: the type1v2 IOMMU backend, IOMMU groups, device
 * fds, the DMA map of guest RAM, and the messages that say what to fix.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "util/log.h"
#include "util/size.h"
#include "vfio/container.h"
#include "util/strbuf.h"

#define CAP_IPC_LOCK_BIT	14
#define UNSAFE_INTR_PARAM	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

/* A bounded string builder: appends until full, then ends the text with "...". */
/* ---- messages ---- */

/* Group members that keep the group from VFIO and that vfio-bind can take (not bridges). */
static void add_bindable_peers(struct sbuf *sb, const struct host_device *dev)
{
	for (unsigned int i = 0; i < dev->nr_peers; i++) {
		char b[PCI_BDF_STRLEN];

		if (!host_peer_blocks_group(&dev->peers[i]) || dev->peers[i].is_bridge)
			continue;
		sb_add(sb, " %s", pci_bdf_format(&dev->peers[i].bdf, b, sizeof(b)));
	}
}

void vfio_msg_not_bound(const struct host_device *dev, char *buf, size_t len)
{
	char b[PCI_BDF_STRLEN];
	struct sbuf sb;

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	sb_init(&sb, buf, len);
	if (dev->driver[0])
		sb_add(&sb, "%s: not bound to vfio-pci (bound to %s)", b, dev->driver);
	else
		sb_add(&sb, "%s: not bound to vfio-pci (no driver)", b);
	sb_add(&sb, "; run (as root): vfio-bind %s", b);
	add_bindable_peers(&sb, dev);
	sb_add(&sb, " (tools/vfio-bind in the source tree; vfio-bind --unbind gives it back)");
}

void vfio_msg_group_not_viable(const struct host_device *dev, char *buf, size_t len)
{
	char b[PCI_BDF_STRLEN];
	unsigned int blocking = 0;
	struct sbuf sb;

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	sb_init(&sb, buf, len);
	sb_add(&sb, "%s: IOMMU group %d is not viable: every device in it must be bound to "
	       "vfio-pci or to no driver; its other members:", b, dev->iommu_group);
	for (unsigned int i = 0; i < dev->nr_peers; i++) {
		const struct host_group_peer *p = &dev->peers[i];
		char pb[PCI_BDF_STRLEN];
		bool blocks = host_peer_blocks_group(p);

		pci_bdf_format(&p->bdf, pb, sizeof(pb));
		sb_add(&sb, "%s %s (%s%s%s)", i ? "," : "", pb,
		       p->driver[0] ? "bound to " : "no driver", p->driver,
		       blocks ? ", blocks the group" : p->is_bridge ? ", a bridge: fine" : "");
		blocking += blocks && !p->is_bridge;
	}
	if (!dev->nr_peers)
		sb_add(&sb, " none known");
	if (dev->nr_peers_total > dev->nr_peers)
		sb_add(&sb, " and %u more", dev->nr_peers_total - dev->nr_peers);
	if (blocking) {
		sb_add(&sb, "; run (as root): vfio-bind");
		add_bindable_peers(&sb, dev);
	} else {
		sb_add(&sb, "; bind the group's other devices to vfio-pci with vfio-bind BDF...");
	}
	sb_add(&sb, " (the whole group goes to this VM: pass those devices through too, "
	       "or leave them unused)");
}

void vfio_msg_no_intr_remap(const struct host_device *dev, char *buf, size_t len)
{
	char b[PCI_BDF_STRLEN];

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	snprintf(buf, len,
		 "%s: the IOMMU has no interrupt remapping, so VFIO refuses the device "
		 "(it could forge interrupts); fix: turn interrupt remapping on (VT-d / AMD-Vi "
		 "in the firmware setup, no intremap=off on the kernel command line), or accept "
		 "the risk on a trusted host: echo 1 > " UNSAFE_INTR_PARAM
		 " (or modprobe vfio_iommu_type1 allow_unsafe_interrupts=1)", b);
}

void vfio_msg_busy(const struct host_device *dev, char *buf, size_t len)
{
	char b[PCI_BDF_STRLEN];

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	snprintf(buf, len,
		 "%s: the device is busy: another process (another vmm, QEMU) has IOMMU "
		 "group %d or the device open; fix: stop it (fuser -v /dev/vfio/%d shows "
		 "which) and try again", b, dev->iommu_group, dev->iommu_group);
}

void vfio_msg_no_group_node(const struct host_device *dev, int err, char *buf, size_t len)
{
	char b[PCI_BDF_STRLEN];

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	if (err == EACCES || err == EPERM)
		snprintf(buf, len,
			 "%s: no permission to open /dev/vfio/%d; fix: run as root, or give "
			 "this user the node (the vmm udev rule 90-vmm-vfio.rules, or chown "
			 "$USER /dev/vfio/%d)", b, dev->iommu_group, dev->iommu_group);
	else
		snprintf(buf, len,
			 "%s: cannot open /dev/vfio/%d: %s; fix: modprobe vfio-pci, bind the "
			 "device with vfio-bind %s, and check that udev created the node",
			 b, dev->iommu_group, strerror(err), b);
}

/* "4G", "512M", "4097K": the form systemd's LimitMEMLOCK= takes, rounded up to KiB. */
static void systemd_size(uint64_t bytes, char *buf, size_t len)
{
	static const char sfx[] = "KMGTPE";
	uint64_t v = (bytes + 1023) / 1024;
	unsigned int k = 0;

	while (v && !(v & 0x3ff) && k < 5) {
		v >>= 10;
		k++;
	}
	snprintf(buf, len, "%" PRIu64 "%c", v, sfx[k]);
}

void vfio_msg_memlock(uint64_t need, uint64_t limit, char *buf, size_t len)
{
	char n[32], l[32], unit[32];

	size_str(need, n, sizeof(n));
	systemd_size(need, unit, sizeof(unit));
	snprintf(buf, len,
		 "RLIMIT_MEMLOCK is %s, but VFIO pins all guest RAM for DMA: %s needed; "
		 "fix: raise the limit to at least %s (ulimit -l %" PRIu64 " in the shell "
		 "that starts vmm, LimitMEMLOCK=%s in a systemd unit, or a memlock line in "
		 "/etc/security/limits.conf), or run vmm with CAP_IPC_LOCK",
		 limit == (uint64_t)RLIM_INFINITY ? "unlimited" : size_str(limit, l, sizeof(l)),
		 n, n, (need + 1023) / 1024, unit);
}

int vfio_check_memlock(uint64_t need, uint64_t limit, bool cap_ipc_lock, char *buf, size_t len)
{
	if (cap_ipc_lock || limit == (uint64_t)RLIM_INFINITY || need <= limit)
		return 0;
	vfio_msg_memlock(need, limit, buf, len);
	return -ENOMEM;
}

/* Whether this process may lock memory past RLIMIT_MEMLOCK (CapEff bit CAP_IPC_LOCK). */
static bool have_cap_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	bool yes = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long caps;

		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			yes = caps & (1ull << CAP_IPC_LOCK_BIT);
			break;
		}
	}
	fclose(f);
	return yes;
}

/* ---- the type1v2 backend ---- */

struct vfio_iommu {
	int fd;				/* /dev/vfio/vfio */
	bool iommu_set;			/* VFIO_SET_IOMMU done (needs a group first) */
	unsigned int nr_groups;
};

static int type1_open(struct vfio_iommu **out, const char *dev_root, char *err, size_t errlen)
{
	struct vfio_iommu *io;
	char path[192];
	int api, ret;

	snprintf(path, sizeof(path), "%s/vfio/vfio", dev_root);
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->fd = open(path, O_RDWR | O_CLOEXEC);
	if (io->fd < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot open %s: %s; fix: modprobe vfio-pci (and turn the "
			"IOMMU on: intel_iommu=on on Intel hosts)", path, strerror(-ret));
		goto err_free;
	}
	api = ioctl(io->fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION) {
		set_err(err, errlen, "%s: VFIO API version %d, this vmm speaks %d", path, api,
			VFIO_API_VERSION);
		ret = -EPROTONOSUPPORT;
		goto err_close;
	}
	if (ioctl(io->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		set_err(err, errlen, "%s: no type1v2 IOMMU backend; fix: modprobe vfio_iommu_type1, "
			"and check that the IOMMU is on (/sys/kernel/iommu_groups/ not empty)", path);
		ret = -ENODEV;
		goto err_close;
	}
	*out = io;
	return 0;

err_close:
	close(io->fd);
err_free:
	free(io);
	return ret;
}

static int type1_attach(struct vfio_iommu *io, int group_fd)
{
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &io->fd))
		return -errno;
	/* The IOMMU model is chosen once the container holds its first group. */
	if (!io->iommu_set) {
		if (ioctl(io->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
			int ret = -errno;

			ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
			return ret;
		}
		io->iommu_set = true;
	}
	io->nr_groups++;
	return 0;
}

static void type1_detach(struct vfio_iommu *io, int group_fd)
{
	if (!ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER) && io->nr_groups)
		io->nr_groups--;
	if (!io->nr_groups)
		io->iommu_set = false;
}

static int type1_map(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)hva,
		.iova = iova,
		.size = size,
	};

	if (!io->iommu_set)
		return -ENOTCONN;	/* the IOMMU model comes with the first group */
	return ioctl(io->fd, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static int type1_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(io->fd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

static void type1_close(struct vfio_iommu *io)
{
	if (!io)
		return;
	close(io->fd);
	free(io);
}

const struct vfio_iommu_ops vfio_type1_ops = {
	.name = "type1v2",
	.open = type1_open,
	.attach_group = type1_attach,
	.detach_group = type1_detach,
	.map_dma = type1_map,
	.unmap_dma = type1_unmap,
	.close = type1_close,
};

/* ---- the VM's context ---- */

int vfio_container_open(struct vfio_container *c, const struct vfio_iommu_ops *ops,
			const char *dev_root, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops ? ops : &vfio_type1_ops;
	snprintf(c->dev_root, sizeof(c->dev_root), "%s", dev_root ? dev_root : "/dev");
	return c->ops->open(&c->io, c->dev_root, err, errlen);
}

void vfio_container_close(struct vfio_container *c)
{
	if (!c->ops)
		return;
	for (unsigned int i = c->nr_maps; i-- > 0;)
		c->ops->unmap_dma(c->io, c->maps[i].iova, c->maps[i].size);
	c->nr_maps = 0;
	c->mapped = 0;
	for (unsigned int i = c->nr_groups; i-- > 0;) {
		c->ops->detach_group(c->io, c->groups[i].fd);
		close(c->groups[i].fd);
	}
	c->nr_groups = 0;
	c->ops->close(c->io);
	c->io = NULL;
	c->ops = NULL;
}

/* The group of dev, opened and attached once for the whole VM. */
static int get_group(struct vfio_container *c, const struct host_device *dev,
		     struct vfio_group **out, char *err, size_t errlen)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[192], b[PCI_BDF_STRLEN];
	int fd, ret;

	for (unsigned int i = 0; i < c->nr_groups; i++) {
		if (c->groups[i].id == dev->iommu_group) {
			*out = &c->groups[i];
			return 0;
		}
	}
	pci_bdf_format(&dev->bdf, b, sizeof(b));
	if (c->nr_groups >= VFIO_MAX_GROUPS) {
		set_err(err, errlen, "%s: more than %d IOMMU groups in one VM", b, VFIO_MAX_GROUPS);
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "%s/vfio/%d", c->dev_root, dev->iommu_group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			vfio_msg_busy(dev, err, errlen);
		else
			vfio_msg_no_group_node(dev, -ret, err, errlen);
		return ret;
	}
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		ret = -errno;
		set_err(err, errlen, "%s: VFIO_GROUP_GET_STATUS on %s: %s", b, path, strerror(-ret));
		goto err_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vfio_msg_group_not_viable(dev, err, errlen);
		ret = -EBUSY;
		goto err_close;
	}
	ret = c->ops->attach_group(c->io, fd);
	if (ret) {
		if (ret == -EPERM)
			vfio_msg_no_intr_remap(dev, err, errlen);
		else if (ret == -EBUSY)
			vfio_msg_busy(dev, err, errlen);
		else
			set_err(err, errlen, "%s: cannot attach IOMMU group %d to the %s IOMMU: %s",
				b, dev->iommu_group, c->ops->name, strerror(-ret));
		goto err_close;
	}
	c->groups[c->nr_groups] = (struct vfio_group){ .id = dev->iommu_group, .fd = fd };
	*out = &c->groups[c->nr_groups++];
	return 0;

err_close:
	close(fd);
	return ret;
}

int vfio_container_get_device(struct vfio_container *c, const struct host_device *dev,
			      char *err, size_t errlen)
{
	struct vfio_group *g = NULL;
	char b[PCI_BDF_STRLEN];
	int fd, ret;

	pci_bdf_format(&dev->bdf, b, sizeof(b));
	if (dev->iommu_group < 0) {
		set_err(err, errlen, "%s: no IOMMU group: the IOMMU is off or missing; fix: turn "
			"on VT-d / AMD-Vi in the firmware setup, add intel_iommu=on to the kernel "
			"command line on Intel hosts, reboot", b);
		return -ENODEV;
	}
	if (!host_driver_is_vfio(dev->driver)) {
		vfio_msg_not_bound(dev, err, errlen);
		return -ENODEV;
	}
	ret = get_group(c, dev, &g, err, errlen);
	if (ret)
		return ret;
	fd = ioctl(g->fd, VFIO_GROUP_GET_DEVICE_FD, b);
	if (fd < 0) {
		ret = -errno;
		if (ret == -EBUSY)
			vfio_msg_busy(dev, err, errlen);
		else if (ret == -ENODEV || ret == -EINVAL)
			vfio_msg_not_bound(dev, err, errlen);
		else
			set_err(err, errlen, "%s: VFIO_GROUP_GET_DEVICE_FD: %s", b, strerror(-ret));
		return ret;
	}
	return fd;
}

static uint64_t elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	int64_t ns = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);

	return ns > 0 ? (uint64_t)ns / 1000000 : 0;
}

int vfio_container_map_ram(struct vfio_container *c, const struct vfio_dma_range *ranges,
			   unsigned int n, char *err, size_t errlen)
{
	struct timespec t0, t1;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	uint64_t need = 0;
	char sz[32];
	int ret;

	for (unsigned int i = 0; i < n; i++)
		need += ranges[i].size;
	if (c->nr_maps + n > VFIO_MAX_DMA) {
		set_err(err, errlen, "more than %d guest RAM ranges to map for DMA", VFIO_MAX_DMA);
		return -ENOSPC;
	}
	getrlimit(RLIMIT_MEMLOCK, &rl);
	ret = vfio_check_memlock(c->mapped + need, (uint64_t)rl.rlim_cur, have_cap_ipc_lock(),
				 err, errlen);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 0; i < n; i++) {
		const struct vfio_dma_range *r = &ranges[i];

		if (!r->size)
			continue;
		ret = c->ops->map_dma(c->io, r->iova, r->size, r->hva);
		if (ret == -ENOMEM || ret == -EPERM) {
			vfio_msg_memlock(c->mapped + need, (uint64_t)rl.rlim_cur, err, errlen);
			return ret;
		}
		if (ret == -ENOTCONN) {
			set_err(err, errlen, "guest RAM can be mapped for DMA only once a VFIO "
				"device is open (the container has no IOMMU group yet)");
			return ret;
		}
		if (ret) {
			set_err(err, errlen, "cannot map guest RAM [0x%" PRIx64 ", 0x%" PRIx64
				") for DMA: %s", r->iova, r->iova + r->size, strerror(-ret));
			return ret;
		}
		c->maps[c->nr_maps++] = *r;
		c->mapped += r->size;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("vfio: %s of guest RAM mapped for DMA in %" PRIu64 " ms (%s IOMMU)",
		size_str(need, sz, sizeof(sz)), elapsed_ms(&t0, &t1), c->ops->name);
	return 0;
}
