/*
 * virtio-console with one port and no MULTIPORT: queue 0 carries input to
 * the guest, queue 1 its output; input waits when the guest has no buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_ids.h>

#include "util/log.h"
#include "virtio/console.h"

#define CONSOLE_RXQ		0
#define CONSOLE_TXQ		1
#define CONSOLE_QUEUE_SIZE	128

struct console_dev {
	struct virtio_device *d;
	virtio_console_output_fn output;
	virtio_console_ready_fn ready;
	void *opaque;
	bool input_waiting;		/* receive refused bytes since the last ready */
	int ready_fd;			/* eventfd: call ready on the device thread, unlocked */
	uint8_t config[12];		/* cols, rows, max_nr_ports, emerg_wr: unused */
	struct virtq_chain chain;
	uint8_t buf[4096];
};

static void console_tx(struct console_dev *c)
{
	struct virtio_device *d = c->d;
	struct virtq *vq = &d->vqs[CONSOLE_TXQ];
	bool pushed = false;
	int ret;

	if (!vq->size)
		return;
	virtq_disable_notify(vq);
	for (;;) {
		ret = virtq_pop(vq, &c->chain);
		if (ret < 0) {
			virtio_device_broken(d, "transmit queue: %s", vq->error);
			return;
		}
		if (!ret) {
			if (virtq_enable_notify(vq)) {
				virtq_disable_notify(vq);
				continue;
			}
			break;
		}
		if (c->chain.nin) {
			virtio_device_broken(d, "transmit queue: chain %u has device-writable buffers",
					     c->chain.head);
			return;
		}
		for (size_t off = 0; off < c->chain.out_len;) {
			size_t got = virtq_copy_from_out(&c->chain, off, c->buf, sizeof(c->buf));

			if (!got)
				break;
			if (c->output)
				c->output(c->opaque, c->buf, got);
			off += got;
		}
		virtq_push(vq, c->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_queue_notify(d, CONSOLE_TXQ);
}

/* ready may call virtio_console_receive: it runs later, without this lock. */
static void console_signal_ready(struct console_dev *c)
{
	uint64_t one = 1;

	if (!c->input_waiting)
		return;
	c->input_waiting = false;
	if (write(c->ready_fd, &one, sizeof(one)) < 0)
		pr_debug("%s: ready eventfd: %m", c->d->name);
}

static void console_kick(struct virtio_device *d, unsigned int q)
{
	struct console_dev *c = d->priv;

	if (q == CONSOLE_TXQ)
		console_tx(c);
	else if (q == CONSOLE_RXQ)
		console_signal_ready(c);
}

static void console_ready_event(void *opaque, uint32_t events)
{
	struct console_dev *c = opaque;
	uint64_t v;

	(void)events;
	if (read(c->ready_fd, &v, sizeof(v)) < 0)
		return;
	if (c->ready)
		c->ready(c->opaque);
}

static int console_start(struct virtio_device *d)
{
	/* Input refused before the driver was ready can come now. */
	console_signal_ready(d->priv);
	return 0;
}

static void console_reset(struct virtio_device *d)
{
	(void)d;
}

static void console_destroy(struct virtio_device *d)
{
	struct console_dev *c = d->priv;

	if (!c)
		return;
	if (c->ready_fd >= 0) {
		event_loop_del(&d->loop, c->ready_fd);
		close(c->ready_fd);
	}
	free(c);
	d->priv = NULL;
}

static const struct virtio_device_ops console_ops = {
	.start = console_start,
	.reset = console_reset,
	.kick = console_kick,
	.destroy = console_destroy,
};

int virtio_console_init(struct virtio_device *d, virtio_console_output_fn output,
			virtio_console_ready_fn ready, void *opaque)
{
	struct console_dev *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->output = output;
	c->ready = ready;
	c->opaque = opaque;
	c->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->ready_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = virtio_device_watch(d, c->ready_fd, EPOLLIN, console_ready_event, c);
	if (ret)
		goto err_close;

	d->id = VIRTIO_ID_CONSOLE;
	d->host_features = 0;
	d->nr_queues = 2;
	d->queue_size_max = CONSOLE_QUEUE_SIZE;
	d->config = c->config;
	d->config_size = sizeof(c->config);
	d->ops = &console_ops;
	d->priv = c;
	return 0;

err_close:
	close(c->ready_fd);
err_free:
	free(c);
	return ret;
}

size_t virtio_console_receive(struct virtio_device *d, const uint8_t *buf, size_t len)
{
	struct console_dev *c = d->priv;
	struct virtq_chain *ch;
	struct virtq *vq;
	size_t done = 0;
	int ret;

	pthread_mutex_lock(&d->lock);
	if (!d->started || !d->vqs[CONSOLE_RXQ].size) {
		c->input_waiting = len > 0;
		goto out;
	}
	vq = &d->vqs[CONSOLE_RXQ];
	/* The device thread may hold c->chain only under this lock: share it. */
	ch = &c->chain;
	while (done < len) {
		size_t n;

		ret = virtq_pop(vq, ch);
		if (ret < 0) {
			virtio_device_broken(d, "receive queue: %s", vq->error);
			break;
		}
		if (!ret) {
			if (virtq_enable_notify(vq))
				continue;
			c->input_waiting = true;
			break;
		}
		if (ch->nout) {
			virtio_device_broken(d, "receive queue: chain %u has driver-readable buffers",
					     ch->head);
			break;
		}
		n = virtq_copy_to_in(ch, 0, buf + done, len - done);
		virtq_push(vq, ch->head, n);
		done += n;
	}
	/* Bytes pushed before a breakage did reach the guest: they count. */
	if (done && d->started)
		virtio_queue_notify(d, CONSOLE_RXQ);
out:
	pthread_mutex_unlock(&d->lock);
	return done;
}
