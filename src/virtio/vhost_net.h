/*
 * vhost-net: handing a virtio-net device's two queues and its tap to the
 * host kernel (/dev/vhost-net), which then moves packets without the VMM.
 */
#ifndef VMM_VIRTIO_VHOST_NET_H
#define VMM_VIRTIO_VHOST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "virtio/device.h"

#define VHOST_NET_DEFAULT_PATH	"/dev/vhost-net"
#define VHOST_NET_QUEUES	2	/* receive, transmit */

/*
 * The feature bits the kernel's vhost-net implements itself (its
 * VHOST_GET_FEATURES answer limits them). The others (MAC, STATUS, the
 * offloads) stay with the VMM's config space or pass through to the tap.
 */
#define VHOST_NET_KERNEL_FEATURES \
	(1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_F_INDIRECT_DESC | \
	 1ULL << VIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1 | \
	 1ULL << VIRTIO_F_ACCESS_PLATFORM)

/* What the transport offers whatever the device says: vhost must do them. */
#define VHOST_NET_REQUIRED_FEATURES \
	(1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX | \
	 1ULL << VIRTIO_F_VERSION_1)

struct vhost_net {
	int fd;				/* -1: not open */
	uint64_t features;		/* VHOST_GET_FEATURES */
	bool running;			/* the kernel owns the queues now */
	unsigned int nr_queues;		/* queues handed over (for the undo) */
};

/*
 * Open path (NULL: /dev/vhost-net) and become its owner. 0, or a negative
 * errno with "who: vhost = on: why and the fix" in err.
 */
int vhost_net_open(struct vhost_net *v, const char *path, const char *who,
		   char *err, size_t errlen);
void vhost_net_close(struct vhost_net *v);

/* The offer: the tap path's offer less the kernel bits vhost lacks. */
uint64_t vhost_net_offer(uint64_t tap_offer, uint64_t vhost_features);

/*
 * Why the kernel cannot run d's queues for this start (a static string),
 * or NULL when it can: every queue set up, with a doorbell eventfd and an
 * MSI-X vector's eventfd (with INTx the VMM must raise the ISR itself).
 */
const char *vhost_net_unusable(struct virtio_device *d);

/*
 * Hand d's queues and tap_fd to the kernel (lock held, from ops->start) and
 * pause the device thread's watches on the doorbells. 0, or a negative
 * errno (logged) with nothing left handed over.
 */
int vhost_net_start(struct vhost_net *v, struct virtio_device *d, int tap_fd);
/* Take the queues back (ops->reset) and resume the doorbell watches. */
void vhost_net_stop(struct vhost_net *v, struct virtio_device *d);

/* ioctl() on the vhost fd; tests replace it to play the kernel. */
extern int (*vhost_net_ioctl)(int fd, unsigned long req, void *arg);

#endif
