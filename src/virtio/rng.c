/* virtio-rng: fills the driver's buffers from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio/pci_layout.h"
#include "virtio/rng.h"

#define RNG_QUEUE_SIZE	64
#define RNG_MAX_CHAIN	65536	/* bytes given per request at most */

struct rng {
	struct virtq_chain chain;
};

/* Fill the chain's device-writable buffers; bytes written. */
static uint32_t fill(const struct virtq_chain *c)
{
	uint64_t left = c->in_len < RNG_MAX_CHAIN ? c->in_len : RNG_MAX_CHAIN;
	uint32_t done = 0;

	for (unsigned int i = c->nout; i < c->nout + c->nin && left; i++) {
		size_t n = c->iov[i].iov_len < left ? c->iov[i].iov_len : left;
		ssize_t got = getrandom(c->iov[i].iov_base, n, 0);

		if (got <= 0)
			break;
		done += (uint32_t)got;
		left -= (uint64_t)got;
		if ((size_t)got < n)
			break;
	}
	return done;
}

static void rng_kick(struct virtio_device *d, unsigned int q)
{
	struct rng *r = d->priv;
	struct virtq *vq = &d->vqs[q];
	bool more;
	int ret;

	do {
		virtq_disable_notify(vq);
		while ((ret = virtq_pop(vq, &r->chain)) > 0) {
			if (r->chain.nout) {
				virtio_device_broken(d, "entropy request with driver-readable buffers");
				return;
			}
			virtq_push(vq, r->chain.head, fill(&r->chain));
			virtio_queue_notify(d, q);
		}
		if (ret < 0) {
			virtio_device_broken(d, "queue %u: %s", q, vq->error);
			return;
		}
		more = virtq_enable_notify(vq);
	} while (more);
}

static void rng_destroy(struct virtio_device *d)
{
	free(d->priv);
	d->priv = NULL;
}

static const struct virtio_device_ops rng_ops = {
	.kick = rng_kick,
	.destroy = rng_destroy,
};

int virtio_rng_init(struct virtio_device *d)
{
	d->priv = calloc(1, sizeof(struct rng));
	if (!d->priv)
		return -ENOMEM;
	d->id = VIRTIO_ID_RNG;
	d->host_features = 0;
	d->nr_queues = 1;
	d->queue_size_max = RNG_QUEUE_SIZE;
	d->config = NULL;
	d->config_size = 0;
	d->ops = &rng_ops;
	return 0;
}
