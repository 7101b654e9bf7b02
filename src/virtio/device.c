/* The life of a virtio device: its lock, its thread, and the transport's services. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/device.h"

#define WARN_INTERVAL_NS	5000000000ULL	/* at most one warning per device per 5 s */

static void device_quit(void *opaque, uint32_t events)
{
	struct virtio_device *d = opaque;
	uint64_t v;

	(void)events;
	if (read(d->quit_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_debug("%s: quit eventfd: %m", d->name);
	event_loop_quit(&d->loop);
}

int virtio_device_prepare(struct virtio_device *d, const char *name)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->quit_fd = -1;
	d->loop.epfd = -1;
	pthread_mutex_init(&d->lock, NULL);
	ret = event_loop_init(&d->loop);
	if (ret)
		return ret;
	d->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->quit_fd < 0)
		return -errno;
	return event_loop_add(&d->loop, d->quit_fd, EPOLLIN, device_quit, d);
}

int virtio_device_watch(struct virtio_device *d, int fd, uint32_t events,
			event_fn fn, void *opaque)
{
	if (d->thread_running)
		return -EBUSY;
	return event_loop_add(&d->loop, fd, events, fn, opaque);
}

static void *device_thread(void *opaque)
{
	struct virtio_device *d = opaque;

	if (event_loop_run(&d->loop) < 0)
		pr_err("%s: device thread stopped", d->name);
	return NULL;
}

int virtio_device_start_thread(struct virtio_device *d)
{
	int ret = pthread_create(&d->thread, NULL, device_thread, d);

	if (ret)
		return -ret;
	d->thread_running = true;
	return 0;
}

void virtio_device_release(struct virtio_device *d)
{
	uint64_t one = 1;

	if (d->thread_running) {
		if (write(d->quit_fd, &one, sizeof(one)) < 0)
			pr_err("%s: cannot stop the device thread: %m", d->name);
		pthread_join(d->thread, NULL);
		d->thread_running = false;
	}
	if (d->ops) {
		pthread_mutex_lock(&d->lock);
		if (d->ops->reset)
			d->ops->reset(d);
		d->started = false;
		pthread_mutex_unlock(&d->lock);
		if (d->ops->destroy)
			d->ops->destroy(d);
		d->ops = NULL;
	}
	event_loop_free(&d->loop);
	if (d->quit_fd >= 0)
		close(d->quit_fd);
	d->quit_fd = -1;
	pthread_mutex_destroy(&d->lock);
}

void virtio_queue_notify(struct virtio_device *d, unsigned int q)
{
	if (d->tops && d->tops->queue_notify)
		d->tops->queue_notify(d, q);
}

void virtio_config_changed(struct virtio_device *d)
{
	if (d->tops && d->tops->config_changed)
		d->tops->config_changed(d);
}

int virtio_queue_kick_fd(struct virtio_device *d, unsigned int q)
{
	return d->tops && d->tops->kick_fd ? d->tops->kick_fd(d, q) : -1;
}

int virtio_queue_call_fd(struct virtio_device *d, unsigned int q)
{
	return d->tops && d->tops->call_fd ? d->tops->call_fd(d, q) : -1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

void virtio_device_broken(struct virtio_device *d, const char *fmt, ...)
{
	uint64_t t = now_ns();
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!d->warn_time_ns || t - d->warn_time_ns >= WARN_INTERVAL_NS) {
		if (d->warn_suppressed)
			pr_warn("%s: the driver broke the virtio rules: %s (and %u more since)",
				d->name, msg, d->warn_suppressed);
		else
			pr_warn("%s: the driver broke the virtio rules: %s; device needs a reset",
				d->name, msg);
		d->warn_time_ns = t;
		d->warn_suppressed = 0;
	} else {
		d->warn_suppressed++;
	}
	if (d->started && d->ops->reset)
		d->ops->reset(d);
	d->started = false;
	if (d->tops && d->tops->broken)
		d->tops->broken(d);
}
