/*
 * virtio-blk: a raw image file or block device behind a virtio device.
 * Reads, writes, flush, discard, write-zeroes and get-id, on several
 * queues, through io_uring (a thread pool where io_uring is unavailable).
 * A request is acknowledged only once its data has reached the backend as
 * the cache mode demands: flush means fdatasync with cache = writeback.
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>

#include "virtio/device.h"

/*
 * The largest queue size the device offers (a power of two): requests in
 * flight per queue, the engine's depth, and seg_max = queue size - 2, so
 * that a request of seg_max data buffers with its header and status fits a
 * ring without indirect descriptors.
 */
#define VIRTIO_BLK_QUEUE_SIZE_MIN	16
#define VIRTIO_BLK_QUEUE_SIZE_DEFAULT	256
#define VIRTIO_BLK_QUEUE_SIZE_MAX	1024	/* VIRTQ_MAX_SIZE */

struct virtio_blk_params {
	const char *path;
	bool readonly;
	bool discard;			/* offer DISCARD and WRITE_ZEROES */
	bool direct;			/* cache = direct: O_DIRECT */
	unsigned int queues;		/* at least 1 */
	unsigned int queue_size;	/* 0: VIRTIO_BLK_QUEUE_SIZE_DEFAULT */
	const char *serial;		/* GET_ID, at most 20 bytes; NULL: none */
};

/*
 * Open the backend and fill d (id, features, queues, config, ops). d must
 * have been through virtio_device_prepare(). 0 or a negative errno with
 * "PATH: why" in err.
 */
int virtio_blk_init(struct virtio_device *d, const struct virtio_blk_params *p,
		    char *err, size_t errlen);

#endif
