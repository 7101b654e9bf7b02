/* virtio-blk: the device model follows; until then such a device is refused. */
#include <errno.h>
#include <stdio.h>

#include "virtio/blk.h"

int virtio_blk_init(struct virtio_device *d, const struct virtio_blk_params *p,
		    char *err, size_t errlen)
{
	(void)d;
	snprintf(err, errlen, "type = virtio-blk: not implemented in this version of vmm");
	return -ENOTSUP;
}
