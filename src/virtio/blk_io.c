/* The I/O engine of virtio-blk: follows with the device model. */
