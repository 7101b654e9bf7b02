/* virtio-rng: the guest's entropy from the host's getrandom(). */
#ifndef VMM_VIRTIO_RNG_H
#define VMM_VIRTIO_RNG_H

#include "virtio/device.h"

int virtio_rng_init(struct virtio_device *d);

#endif
