/*
 * A virtio device model as its transport drives it, and the services the
 * transport gives it. The device owns its queues' contents and its backend;
 * the transport owns feature negotiation, status, queue setup, interrupts
 * and notifications. Each device has one thread (its event loop) where
 * queue kicks and backend events are handled, under the device lock.
 */
#ifndef VMM_VIRTIO_DEVICE_H
#define VMM_VIRTIO_DEVICE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/guest_mem.h"
#include "util/event_loop.h"
#include "virtio/virtq.h"

/* Feature bits the transport itself offers. */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

struct virtio_device;

struct virtio_device_ops {
	/*
	 * The driver set DRIVER_OK: the enabled queues are set up (vq->size
	 * non-zero) and d->features holds what was negotiated. 0, or a negative
	 * errno and the device goes to NEEDS_RESET. Lock held; d->started is
	 * still false during the call and becomes true when it returns 0.
	 */
	int (*start)(struct virtio_device *d);
	/*
	 * Device reset (or teardown): stop using the queues and the guest's
	 * memory. Requests in flight are finished or dropped before it returns.
	 * Called with the lock held, also when start was never called.
	 */
	void (*reset)(struct virtio_device *d);
	/* The driver notified queue q (device thread, lock held, device started). */
	void (*kick)(struct virtio_device *d, unsigned int q);
	/* The driver wrote len bytes of device config at offset (lock held). Optional. */
	void (*config_write)(struct virtio_device *d, unsigned int offset, unsigned int len);
	/* Free the backend (device thread stopped, device reset). Optional. */
	void (*destroy)(struct virtio_device *d);
};

/* What a transport does for its device (src/virtio/pci.c, or a test's fake). */
struct virtio_transport_ops {
	void (*queue_notify)(struct virtio_device *d, unsigned int q);
	/* Set NEEDS_RESET and tell the driver; the device is already stopped. */
	void (*broken)(struct virtio_device *d);
	void (*config_changed)(struct virtio_device *d);
	/* For a data path in the kernel (vhost): the queue's doorbell eventfd. */
	int (*kick_fd)(struct virtio_device *d, unsigned int q);
	/* The eventfd that interrupts the driver for queue q, or -1 (no MSI-X vector). */
	int (*call_fd)(struct virtio_device *d, unsigned int q);
};

struct virtio_device {
	/* Filled by the device model before the transport takes it. */
	const char *name;		/* for messages: the machine file's device name */
	uint32_t id;			/* VIRTIO_ID_* */
	uint64_t host_features;		/* device-specific bits; the transport adds its own */
	unsigned int nr_queues;
	uint16_t queue_size_max;	/* power of two, at most VIRTQ_MAX_SIZE */
	uint8_t *config;		/* device-specific config, little-endian */
	unsigned int config_size;
	const struct virtio_device_ops *ops;
	void *priv;

	/* Filled by the transport. */
	const struct guest_mem *mem;
	struct virtq *vqs;		/* [nr_queues] */
	uint64_t features;		/* negotiated (valid once FEATURES_OK) */
	bool started;			/* between start and reset */
	pthread_mutex_t lock;		/* queues, config, backend state */
	struct event_loop loop;		/* the device thread's */
	pthread_t thread;
	bool thread_running;
	int quit_fd;			/* eventfd: ends the device thread */
	const struct virtio_transport_ops *tops;
	void *transport;
	uint64_t warn_time_ns;		/* rate limit of broken-driver warnings */
	unsigned int warn_suppressed;
};

/*
 * Ready d for a device model's init: the lock and the (not yet running)
 * event loop. 0 or a negative errno.
 */
int virtio_device_prepare(struct virtio_device *d, const char *name);
/* Run the device thread; 0 or a negative errno. */
int virtio_device_start_thread(struct virtio_device *d);
/* Stop the thread, reset the device, call ops->destroy, free what prepare took. */
void virtio_device_release(struct virtio_device *d);

/*
 * Add fd to the device thread's loop; fn runs on that thread and takes
 * d->lock itself. Only before the transport starts the thread (device
 * creation); use event_loop_set_events() to pause and resume later.
 */
int virtio_device_watch(struct virtio_device *d, int fd, uint32_t events,
			event_fn fn, void *opaque);

static inline bool virtio_has_feature(const struct virtio_device *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}

/* Services of the transport, through d->tops; lock held. */

/* Used entries were pushed to queue q: interrupt the driver if it wants. */
void virtio_queue_notify(struct virtio_device *d, unsigned int q);
/*
 * The driver broke a rule (what: printf-style, about the queue or
 * request): warn (rate-limited), set NEEDS_RESET, tell the driver, and
 * stop the device until it is reset.
 */
void virtio_device_broken(struct virtio_device *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The device config changed (link status, console size): tell the driver. */
void virtio_config_changed(struct virtio_device *d);
/*
 * For devices that hand a queue to the kernel (vhost-net): the eventfd the
 * queue's doorbell signals (the device thread stops watching it while the
 * device is started: pause it with event_loop_set_events), and the eventfd
 * that interrupts the driver for it, or -1 when the queue has no MSI-X
 * vector (the device must then signal through virtio_queue_notify).
 */
int virtio_queue_kick_fd(struct virtio_device *d, unsigned int q);
int virtio_queue_call_fd(struct virtio_device *d, unsigned int q);

#endif
