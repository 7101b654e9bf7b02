/*
 * vhost-net: opening /dev/vhost-net, and handing a started virtio-net
 * device's rings, doorbells, interrupt eventfds and tap to the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "util/log.h"
#include "virtio/vhost_net.h"

static int vhost_sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

int (*vhost_net_ioctl)(int fd, unsigned long req, void *arg) = vhost_sys_ioctl;

/* One request: 0 or a negative errno. */
static int vhost_call(struct vhost_net *v, unsigned long req, void *arg)
{
	return vhost_net_ioctl(v->fd, req, arg) < 0 ? -errno : 0;
}

static const char *vhost_open_hint(int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "no such device (load the vhost_net module: modprobe vhost_net)";
	case EACCES:
	case EPERM:
		return "permission denied (run as root, or give this user read-write access to it)";
	default:
		return strerror(err);
	}
}

int vhost_net_open(struct vhost_net *v, const char *path, const char *who,
		   char *err, size_t errlen)
{
	uint64_t missing;
	int ret;

	if (!path)
		path = VHOST_NET_DEFAULT_PATH;
	memset(v, 0, sizeof(*v));
	v->fd = open(path, O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: vhost = on: %s: %s", who, path, vhost_open_hint(-ret));
		return ret;
	}
	ret = vhost_call(v, VHOST_SET_OWNER, NULL);
	if (ret) {
		if (ret == -ENOTTY || ret == -EINVAL)
			snprintf(err, errlen, "%s: vhost = on: %s is not a vhost-net device", who, path);
		else
			snprintf(err, errlen, "%s: vhost = on: %s: cannot own it: %s", who, path,
				 strerror(-ret));
		goto err_close;
	}
	ret = vhost_call(v, VHOST_GET_FEATURES, &v->features);
	if (ret) {
		snprintf(err, errlen, "%s: vhost = on: %s: reading its features: %s", who, path,
			 strerror(-ret));
		goto err_close;
	}
	missing = VHOST_NET_REQUIRED_FEATURES & ~v->features;
	if (missing) {
		snprintf(err, errlen,
			 "%s: vhost = on: %s lacks virtio features 0x%llx (kernel too old; use vhost = off)",
			 who, path, (unsigned long long)missing);
		ret = -EOPNOTSUPP;
		goto err_close;
	}
	return 0;

err_close:
	close(v->fd);
	v->fd = -1;
	return ret;
}

void vhost_net_close(struct vhost_net *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	v->running = false;
}

uint64_t vhost_net_offer(uint64_t tap_offer, uint64_t vhost_features)
{
	return tap_offer & ~(VHOST_NET_KERNEL_FEATURES & ~vhost_features);
}

const char *vhost_net_unusable(struct virtio_device *d)
{
	if (d->nr_queues != VHOST_NET_QUEUES)
		return "not two queues";
	for (unsigned int q = 0; q < d->nr_queues; q++) {
		if (!d->vqs[q].size)
			return "a queue is not set up";
		if (virtio_queue_kick_fd(d, q) < 0)
			return "a queue has no doorbell eventfd";
		if (virtio_queue_call_fd(d, q) < 0)
			return "a queue has no MSI-X vector (INTx)";
	}
	return NULL;
}

/* Pause (0) or resume (EPOLLIN) the device thread's doorbell watches. */
static int vhost_watch_kicks(struct virtio_device *d, uint32_t events)
{
	int ret = 0;

	for (unsigned int q = 0; q < d->nr_queues; q++) {
		int r = event_loop_set_events(&d->loop, virtio_queue_kick_fd(d, q), events);

		if (r) {
			pr_err("%s: queue %u doorbell watch: %s", d->name, q, strerror(-r));
			ret = r;
		}
	}
	return ret;
}

static int vhost_set_mem_table(struct vhost_net *v, const struct guest_mem *mem)
{
	struct vhost_memory *m;
	int ret;

	m = calloc(1, sizeof(*m) + mem->nr * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = mem->nr;
	for (unsigned int i = 0; i < mem->nr; i++) {
		m->regions[i].guest_phys_addr = mem->regions[i].gpa;
		m->regions[i].memory_size = mem->regions[i].size;
		m->regions[i].userspace_addr = (uintptr_t)mem->regions[i].hva;
	}
	ret = vhost_call(v, VHOST_SET_MEM_TABLE, m);
	free(m);
	return ret;
}

static int vhost_set_vring(struct vhost_net *v, struct virtio_device *d, unsigned int q)
{
	const struct virtq *vq = &d->vqs[q];
	struct vhost_vring_state num = { .index = q, .num = vq->size };
	struct vhost_vring_state base = { .index = q, .num = vq->last_avail };
	struct vhost_vring_addr addr = {
		.index = q,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = q, .fd = virtio_queue_kick_fd(d, q) };
	struct vhost_vring_file call = { .index = q, .fd = virtio_queue_call_fd(d, q) };
	int ret;

	ret = vhost_call(v, VHOST_SET_VRING_NUM, &num);
	if (!ret)
		ret = vhost_call(v, VHOST_SET_VRING_BASE, &base);
	if (!ret)
		ret = vhost_call(v, VHOST_SET_VRING_ADDR, &addr);
	if (!ret)
		ret = vhost_call(v, VHOST_SET_VRING_KICK, &kick);
	if (!ret)
		ret = vhost_call(v, VHOST_SET_VRING_CALL, &call);
	return ret;
}

/* Stop the kernel's work on the first n queues and let go of their eventfds. */
static void vhost_release_queues(struct vhost_net *v, struct virtio_device *d, unsigned int n)
{
	for (unsigned int q = 0; q < n; q++) {
		struct vhost_vring_file unbind = { .index = q, .fd = VHOST_FILE_UNBIND };
		struct vhost_vring_state base = { .index = q };
		int ret;

		ret = vhost_call(v, VHOST_NET_SET_BACKEND, &unbind);
		if (ret)
			pr_warn("%s: vhost-net: detaching queue %u from the tap: %s", d->name, q,
				strerror(-ret));
		ret = vhost_call(v, VHOST_GET_VRING_BASE, &base);
		if (ret)
			pr_debug("%s: vhost-net: queue %u base: %s", d->name, q, strerror(-ret));
		else
			pr_debug("%s: vhost-net: queue %u stopped at avail %u", d->name, q, base.num);
		/* The next start may bring other eventfds (a new MSI-X vector). */
		if (vhost_call(v, VHOST_SET_VRING_KICK, &unbind) ||
		    vhost_call(v, VHOST_SET_VRING_CALL, &unbind))
			pr_debug("%s: vhost-net: queue %u unbinding eventfds: %m", d->name, q);
	}
}

int vhost_net_start(struct vhost_net *v, struct virtio_device *d, int tap_fd)
{
	uint64_t features = d->features & VHOST_NET_KERNEL_FEATURES & v->features;
	const char *what;
	unsigned int q, set_up = 0;
	int ret;

	if (v->fd < 0 || v->running)
		return -EINVAL;
	what = "setting the features";
	ret = vhost_call(v, VHOST_SET_FEATURES, &features);
	if (ret)
		goto err;
	what = "setting the memory table";
	ret = vhost_set_mem_table(v, d->mem);
	if (ret)
		goto err;
	what = "setting up a queue";
	for (q = 0; q < VHOST_NET_QUEUES; q++) {
		set_up = q + 1;		/* a half-set queue may hold eventfds */
		ret = vhost_set_vring(v, d, q);
		if (ret)
			goto err_release;
	}
	what = "attaching the tap";
	for (q = 0; q < VHOST_NET_QUEUES; q++) {
		struct vhost_vring_file backend = { .index = q, .fd = tap_fd };

		ret = vhost_call(v, VHOST_NET_SET_BACKEND, &backend);
		if (ret)
			goto err_release;
	}
	/*
	 * A doorbell the device thread still watched would be read there and
	 * passed back to the kernel by ops->kick, over and over.
	 */
	what = "pausing the doorbell watches";
	ret = vhost_watch_kicks(d, 0);
	if (ret) {
		vhost_watch_kicks(d, EPOLLIN);
		goto err_release;
	}
	v->nr_queues = VHOST_NET_QUEUES;
	v->running = true;
	return 0;

err_release:
	vhost_release_queues(v, d, set_up);
err:
	pr_err("%s: vhost-net: %s: %s", d->name, what, strerror(-ret));
	return ret;
}

void vhost_net_stop(struct vhost_net *v, struct virtio_device *d)
{
	if (!v->running)
		return;
	vhost_release_queues(v, d, v->nr_queues);
	v->running = false;
	v->nr_queues = 0;
	vhost_watch_kicks(d, EPOLLIN);
}
