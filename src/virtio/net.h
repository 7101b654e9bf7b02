/*
 * virtio-net on a tap device: MAC, the tap's offloads (checksum, TSO)
 * where it has them, mergeable receive buffers; or vhost-net doing the
 * data path in the kernel.
 */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"

/*
 * The largest queue size the device offers (a power of two), for both
 * queues. At least 64: a packet must fit in the buffers of one receive
 * ring, and a 64 KiB GSO packet in MTU-sized mergeable buffers (1530 bytes,
 * the smallest Linux posts) takes 43 of them.
 */
#define VIRTIO_NET_QUEUE_SIZE_MIN	64
#define VIRTIO_NET_QUEUE_SIZE_DEFAULT	256
#define VIRTIO_NET_QUEUE_SIZE_MAX	1024	/* VIRTQ_MAX_SIZE */

struct virtio_net_params {
	const char *tap;		/* interface name (created if absent), or NULL */
	int fd;				/* an open tap fd when tap is NULL (not closed) */
	uint8_t mac[6];
	bool vhost;
	const char *vhost_path;		/* NULL: /dev/vhost-net (tests name another) */
	unsigned int queue_size;	/* 0: VIRTIO_NET_QUEUE_SIZE_DEFAULT */
	/*
	 * Tests only: fd is any packet fd (a SOCK_SEQPACKET socketpair end)
	 * that carries the 12-byte virtio_net_hdr_mrg_rxbuf before each frame
	 * both ways, as a tap with IFF_VNET_HDR does; no tap ioctls, no
	 * offloads offered.
	 */
	bool raw_fd_for_tests;
};

/* What the data path dropped or failed, since init. */
struct virtio_net_stats {
	uint64_t rx_packets, rx_dropped;	/* dropped: no receive buffer big enough */
	uint64_t tx_packets, tx_dropped;	/* dropped: too long, or the tap refused it */
};

/* Open the tap and fill d; 0 or a negative errno with "tap NAME: why" in err. */
int virtio_net_init(struct virtio_device *d, const struct virtio_net_params *p,
		    char *err, size_t errlen);
/* A snapshot of the counters (takes d->lock). */
void virtio_net_get_stats(struct virtio_device *d, struct virtio_net_stats *st);

#endif
