/*
 * virtio-console with one port (hvc0): what the guest writes goes to an
 * output callback; input comes in through virtio_console_receive(), with
 * back-pressure, as for the UART.
 */
#ifndef VMM_VIRTIO_CONSOLE_H
#define VMM_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/device.h"

/* Bytes from the guest. Called on the device thread, device lock held. */
typedef void (*virtio_console_output_fn)(void *opaque, const uint8_t *buf, size_t len);
/*
 * The guest gave receive buffers again after input was refused (or the
 * driver started after input came too early). Called on the device thread
 * with NO lock held: it may call virtio_console_receive() directly.
 */
typedef void (*virtio_console_ready_fn)(void *opaque);

int virtio_console_init(struct virtio_device *d, virtio_console_output_fn output,
			virtio_console_ready_fn ready, void *opaque);
/*
 * Input for the guest, from any thread (takes the device lock; never call
 * it from the output callback): how many bytes it took. Taking less than
 * len (0 before the driver started) arms the ready callback once.
 */
size_t virtio_console_receive(struct virtio_device *d, const uint8_t *buf, size_t len);

#endif
