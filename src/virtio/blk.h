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

struct virtio_blk_params {
	const char *path;
	bool readonly;
	bool discard;			/* offer DISCARD and WRITE_ZEROES */
	bool direct;			/* cache = direct: O_DIRECT */
	unsigned int queues;		/* at least 1 */
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
