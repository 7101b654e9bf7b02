/*
 * virtio-blk: parses and checks the driver's requests, hands them to the
 * I/O engine (blk_io.c) and returns them used once the engine is done.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/blk_io.h"
#include "virtio/pci_layout.h"

#define BLK_SECTOR		512ULL
#define BLK_ID_BYTES		20
#define BLK_HDR_BYTES		16
/* One discard / write-zeroes segment per request, up to 2 GiB. */
#define BLK_MAX_DWZ_SECTORS	(1U << 22)
#define BLK_MAX_DWZ_SEG		1
#define BLK_MIN_IOV		16
#define BLK_MAX_QUEUES		256	/* each has its io_uring and eventfd */
#define BLK_S_SUBMIT		0xff	/* not a status: the request goes to the engine */

_Static_assert(VIRTIO_BLK_QUEUE_SIZE_MAX <= VIRTQ_MAX_SIZE, "queue size beyond the virtqueue's");
_Static_assert(VIRTIO_BLK_QUEUE_SIZE_MAX <= 65536, "free indexes are 16-bit");

struct blk_queue;

struct blk_req {
	struct blk_io_req io;
	struct blk_queue *bq;
	uint16_t head;
	bool busy;			/* taken from the queue, not yet used */
	uint8_t *status;		/* the chain's last device-writable byte */
	uint32_t in_len;		/* bytes of data for the driver on success */
	struct iovec *iov;		/* data buffers, grown as chains need */
	unsigned int iov_cap;
};

struct blk_queue {
	struct virtio_device *d;
	unsigned int index;
	struct blk_req *reqs;		/* [blk.queue_size] */
	uint16_t *free;			/* stack of free reqs indexes [blk.queue_size] */
	unsigned int nr_free;
	bool stalled;			/* stopped taking chains: no free request */
	bool pushed;			/* used entries not yet notified */
	struct virtq_chain chain;
};

struct blk {
	int fd;
	bool readonly, dwz, block_dev;
	bool writethrough;		/* FLUSH not negotiated */
	uint64_t capacity;		/* sectors */
	uint32_t blk_size;		/* logical block size the driver is told */
	char serial[BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct blk_io *io;
	unsigned int nr_queues;
	unsigned int queue_size;	/* offered to the driver; requests per queue */
	struct blk_queue *queues;
};

static void queue_clear(struct blk *b, struct blk_queue *bq)
{
	bq->nr_free = b->queue_size;
	for (unsigned int i = 0; i < b->queue_size; i++) {
		bq->free[i] = (uint16_t)(b->queue_size - 1 - i);
		bq->reqs[i].busy = false;
	}
	bq->stalled = false;
	bq->pushed = false;
}

static void req_finish(struct blk_req *req, uint8_t status, uint32_t in_len)
{
	struct blk_queue *bq = req->bq;

	*req->status = status;
	virtq_push(&bq->d->vqs[bq->index], req->head, in_len + 1);
	bq->pushed = true;
	req->busy = false;
	bq->free[bq->nr_free++] = (uint16_t)(req - bq->reqs);
}

static bool req_iov_reserve(struct blk_req *req, unsigned int n)
{
	struct iovec *iov;
	unsigned int cap = n < BLK_MIN_IOV ? BLK_MIN_IOV : n;

	if (n <= req->iov_cap)
		return true;
	iov = realloc(req->iov, cap * sizeof(*iov));
	if (!iov)
		return false;
	req->iov = iov;
	req->iov_cap = cap;
	return true;
}

/*
 * Copy len bytes worth of buffers from src[n], skipping skip bytes first,
 * into req->iov; the number of iovecs.
 */
static unsigned int req_set_iov(struct blk_req *req, const struct iovec *src,
				unsigned int n, uint64_t skip, uint64_t len)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		req->iov[k].iov_base = (uint8_t *)src[i].iov_base + skip;
		req->iov[k].iov_len = l;
		k++;
		skip = 0;
		len -= l;
	}
	return k;
}

static bool range_ok(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return !(bytes % BLK_SECTOR) && sector <= b->capacity &&
	       bytes / BLK_SECTOR <= b->capacity - sector;
}

/* Discard and write-zeroes: the one segment the out buffers carry. */
static uint8_t start_dwz(struct blk *b, struct blk_req *req,
			 const struct virtq_chain *c, uint32_t type)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t sector, bytes;
	uint32_t flags, num;

	if (!b->dwz)
		return VIRTIO_BLK_S_UNSUPP;
	if (c->out_len <= BLK_HDR_BYTES || (c->out_len - BLK_HDR_BYTES) % sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	if ((c->out_len - BLK_HDR_BYTES) / sizeof(seg) > BLK_MAX_DWZ_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	virtq_copy_from_out(c, BLK_HDR_BYTES, &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	num = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (type == VIRTIO_BLK_T_DISCARD ? flags : flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	bytes = (uint64_t)num * BLK_SECTOR;
	if (num > BLK_MAX_DWZ_SECTORS || !range_ok(b, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	if (!num)
		return VIRTIO_BLK_S_OK;
	if (type == VIRTIO_BLK_T_DISCARD)
		req->io.op = BLK_IO_DISCARD;
	else if (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
		req->io.op = BLK_IO_ZERO_UNMAP;
	else
		req->io.op = BLK_IO_ZERO;
	req->io.offset = sector * BLK_SECTOR;
	req->io.len = bytes;
	req->io.iov = NULL;
	req->io.iovcnt = 0;
	return BLK_S_SUBMIT;
}

/*
 * Read, write: check the range and point req->io at the data buffers.
 * A status to finish with, or BLK_S_SUBMIT.
 */
static uint8_t start_rw(struct blk *b, struct blk_req *req,
			const struct virtq_chain *c, bool write, uint64_t sector)
{
	uint64_t bytes = write ? c->out_len - BLK_HDR_BYTES : c->in_len - 1;
	unsigned int n = write ? c->nout : c->nin;

	if (write && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (bytes > UINT32_MAX || !range_ok(b, sector, bytes))
		return VIRTIO_BLK_S_IOERR;
	if (!bytes)
		return VIRTIO_BLK_S_OK;
	if (!req_iov_reserve(req, n))
		return VIRTIO_BLK_S_IOERR;
	if (write)
		req->io.iovcnt = req_set_iov(req, c->iov, c->nout, BLK_HDR_BYTES, bytes);
	else
		req->io.iovcnt = req_set_iov(req, c->iov + c->nout, c->nin, 0, bytes);
	req->io.op = write ? BLK_IO_WRITE : BLK_IO_READ;
	req->io.sync = write && b->writethrough;
	req->io.iov = req->iov;
	req->io.offset = sector * BLK_SECTOR;
	req->io.len = bytes;
	req->in_len = write ? 0 : (uint32_t)bytes;
	return BLK_S_SUBMIT;
}

/* The byte a status goes to: the last of the device-writable buffers. */
static uint8_t *chain_status(const struct virtq_chain *c)
{
	for (unsigned int i = c->nout + c->nin; i > c->nout; i--) {
		const struct iovec *v = &c->iov[i - 1];

		if (v->iov_len)
			return (uint8_t *)v->iov_base + v->iov_len - 1;
	}
	return NULL;
}

/* Take one chain: finish it or hand it to the engine. -EIO: device broken. */
static int blk_start(struct virtio_device *d, struct blk_queue *bq,
		     const struct virtq_chain *c)
{
	struct blk *b = d->priv;
	struct virtio_blk_outhdr hdr = { 0 };
	struct blk_req *req;
	uint8_t status;
	uint8_t *st = chain_status(c);
	uint32_t type;
	bool short_hdr;

	if (!st) {
		virtio_device_broken(d, "queue %u: request without a status byte", bq->index);
		return -EIO;
	}
	/*
	 * Buffers the wrong way round (the header, a write's data where the
	 * device may write, a read's where it may only read) are the driver
	 * breaking the rules, not an I/O error: answering one would claim
	 * data moved that did not.
	 */
	if (!c->out_len) {
		virtio_device_broken(d, "queue %u: request header in a device-writable buffer",
				     bq->index);
		return -EIO;
	}
	short_hdr = virtq_copy_from_out(c, 0, &hdr, sizeof(hdr)) < sizeof(hdr);
	type = le32toh(hdr.type);
	if (!short_hdr && ((type == VIRTIO_BLK_T_OUT && c->in_len > 1) ||
			   (type == VIRTIO_BLK_T_IN && c->out_len > BLK_HDR_BYTES))) {
		virtio_device_broken(d, "queue %u: %s data in device-%s buffers", bq->index,
				     type == VIRTIO_BLK_T_OUT ? "write" : "read",
				     type == VIRTIO_BLK_T_OUT ? "writable" : "readable");
		return -EIO;
	}
	req = &bq->reqs[bq->free[--bq->nr_free]];
	req->busy = true;
	req->head = c->head;
	req->status = st;
	req->in_len = 0;
	req->io.sync = false;

	if (short_hdr) {
		req_finish(req, VIRTIO_BLK_S_IOERR, 0);
		return 0;
	}
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		status = start_rw(b, req, c, type == VIRTIO_BLK_T_OUT, le64toh(hdr.sector));
		break;
	case VIRTIO_BLK_T_FLUSH:
		req->io.op = BLK_IO_FLUSH;
		req->io.iovcnt = 0;
		req->io.len = 0;
		status = BLK_S_SUBMIT;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t room = c->in_len - 1;

		req->in_len = (uint32_t)virtq_copy_to_in(c, 0, b->serial,
				room < BLK_ID_BYTES ? (size_t)room : BLK_ID_BYTES);
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = b->readonly ? VIRTIO_BLK_S_IOERR : start_dwz(b, req, c, type);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (status != BLK_S_SUBMIT) {
		req_finish(req, status, req->in_len);
		return 0;
	}
	blk_io_submit(b->io, bq->index, &req->io);
	return 0;
}

static void blk_process(struct virtio_device *d, struct blk_queue *bq)
{
	struct blk *b = d->priv;
	struct virtq *vq = &d->vqs[bq->index];
	int ret;

	for (;;) {
		virtq_disable_notify(vq);
		while (bq->nr_free) {
			ret = virtq_pop(vq, &bq->chain);
			if (ret < 0) {
				virtio_device_broken(d, "queue %u: %s", bq->index,
						     vq->error ? vq->error : "broken");
				return;
			}
			if (!ret)
				break;
			if (blk_start(d, bq, &bq->chain) < 0)
				return;
		}
		blk_io_commit(b->io, bq->index);
		if (!bq->nr_free) {
			/* Completions free requests and resume; kicks stay off meanwhile. */
			bq->stalled = true;
			break;
		}
		if (!virtq_enable_notify(vq))
			break;
	}
	if (bq->pushed) {
		bq->pushed = false;
		virtio_queue_notify(d, bq->index);
	}
}

static void blk_kick(struct virtio_device *d, unsigned int q)
{
	struct blk *b = d->priv;

	if (q >= b->nr_queues || !d->vqs[q].size)
		return;
	if (b->queues[q].stalled)
		return;
	blk_process(d, &b->queues[q]);
}

static void blk_done(struct blk_io_req *r, void *opaque)
{
	struct blk_req *req = (struct blk_req *)r;
	uint32_t in_len = req->in_len;

	(void)opaque;
	/* Only a request dropped by a reset could come back idle: the engine drains. */
	if (!req->busy)
		return;
	if (r->result) {
		static const char *const names[] = {
			[BLK_IO_READ] = "read", [BLK_IO_WRITE] = "write",
			[BLK_IO_FLUSH] = "flush", [BLK_IO_DISCARD] = "discard",
			[BLK_IO_ZERO] = "write-zeroes", [BLK_IO_ZERO_UNMAP] = "write-zeroes",
		};

		pr_debug("%s: %s at byte %llu: %s", req->bq->d->name, names[r->op],
			 (unsigned long long)r->offset, strerror(-r->result));
		in_len = r->op == BLK_IO_READ ? (uint32_t)r->done : 0;
	}
	req_finish(req, r->result ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK, in_len);
}

/* The engine finished requests of a queue (device thread). */
static void blk_io_event(void *opaque, uint32_t events)
{
	struct blk_queue *bq = opaque;
	struct virtio_device *d = bq->d;
	struct blk *b = d->priv;

	(void)events;
	pthread_mutex_lock(&d->lock);
	blk_io_reap(b->io, bq->index, blk_done, bq);
	if (d->started && bq->stalled) {
		bq->stalled = false;
		blk_process(d, bq);
	} else if (bq->pushed) {
		bq->pushed = false;
		virtio_queue_notify(d, bq->index);
	}
	pthread_mutex_unlock(&d->lock);
}

static int blk_start_dev(struct virtio_device *d)
{
	struct blk *b = d->priv;

	b->writethrough = !virtio_has_feature(d, VIRTIO_BLK_F_FLUSH);
	for (unsigned int q = 0; q < b->nr_queues; q++)
		queue_clear(b, &b->queues[q]);
	return 0;
}

static void blk_reset(struct virtio_device *d)
{
	struct blk *b = d->priv;

	for (unsigned int q = 0; q < b->nr_queues; q++) {
		blk_io_drain(b->io, q);
		queue_clear(b, &b->queues[q]);
	}
}

static void blk_free(struct virtio_device *d, struct blk *b)
{
	if (b->queues) {
		for (unsigned int q = 0; q < b->nr_queues; q++) {
			struct blk_queue *bq = &b->queues[q];

			if (b->io)
				event_loop_del(&d->loop, blk_io_eventfd(b->io, q));
			if (bq->reqs)
				for (unsigned int i = 0; i < b->queue_size; i++)
					free(bq->reqs[i].iov);
			free(bq->reqs);
			free(bq->free);
		}
	}
	blk_io_destroy(b->io);
	free(b->queues);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static void blk_destroy(struct virtio_device *d)
{
	blk_free(d, d->priv);
	d->priv = NULL;
}

static const struct virtio_device_ops blk_ops = {
	.start = blk_start_dev,
	.reset = blk_reset,
	.kick = blk_kick,
	.destroy = blk_destroy,
};

/* Open the backend; its size in bytes. 0 or a negative errno with err set. */
static int blk_open(struct blk *b, const struct virtio_blk_params *p, uint64_t *size,
		    char *err, size_t errlen)
{
	int flags = (p->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;

	if (p->direct)
		flags |= O_DIRECT;
	b->fd = open(p->path, flags);
	if (b->fd < 0) {
		int e = errno;

		if (e == EINVAL && p->direct)
			snprintf(err, errlen, "%s: cannot open with O_DIRECT (cache = direct): %s",
				 p->path, strerror(e));
		else
			snprintf(err, errlen, "%s: %s", p->path, strerror(e));
		return -e;
	}
	if (fstat(b->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", p->path, strerror(errno));
		return -errno;
	}
	b->blk_size = BLK_SECTOR;
	if (S_ISBLK(st.st_mode)) {
		int lbs = 0;

		b->block_dev = true;
		if (ioctl(b->fd, BLKGETSIZE64, size) < 0) {
			snprintf(err, errlen, "%s: cannot get the size: %s", p->path,
				 strerror(errno));
			return -errno;
		}
		/* A 4K-sector disk: the driver then sends whole blocks (O_DIRECT needs them). */
		if (!ioctl(b->fd, BLKSSZGET, &lbs) && lbs > (int)BLK_SECTOR && lbs <= 65536 &&
		    !(lbs & (lbs - 1)))
			b->blk_size = (uint32_t)lbs;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "%s: not a regular file or block device", p->path);
		return -EINVAL;
	}
	if (*size % BLK_SECTOR)
		pr_warn("%s: size not a multiple of 512 bytes: the last %llu bytes are not used",
			p->path, (unsigned long long)(*size % BLK_SECTOR));
	return 0;
}

static void blk_fill_config(struct blk *b, unsigned int queues)
{
	struct virtio_blk_config *c = &b->config;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->capacity);
	/* A request of seg_max data buffers, its header and status fill a ring. */
	c->seg_max = htole32(b->queue_size - 2);
	c->blk_size = htole32(b->blk_size);
	c->num_queues = htole16((uint16_t)queues);
	if (b->dwz) {
		c->max_discard_sectors = htole32(BLK_MAX_DWZ_SECTORS);
		c->max_discard_seg = htole32(BLK_MAX_DWZ_SEG);
		c->discard_sector_alignment = htole32(b->blk_size / BLK_SECTOR);
		c->max_write_zeroes_sectors = htole32(BLK_MAX_DWZ_SECTORS);
		c->max_write_zeroes_seg = htole32(BLK_MAX_DWZ_SEG);
		c->write_zeroes_may_unmap = 1;
	}
}

int virtio_blk_init(struct virtio_device *d, const struct virtio_blk_params *p,
		    char *err, size_t errlen)
{
	unsigned int queue_size = p->queue_size ? p->queue_size : VIRTIO_BLK_QUEUE_SIZE_DEFAULT;
	struct blk *b;
	uint64_t size = 0;
	char why[128];
	int ret;

	if (!p->path || !*p->path) {
		snprintf(err, errlen, "virtio-blk: no path");
		return -EINVAL;
	}
	if (!p->queues || p->queues > BLK_MAX_QUEUES) {
		snprintf(err, errlen, "%s: %u queues: need 1 to %d", p->path, p->queues,
			 BLK_MAX_QUEUES);
		return -EINVAL;
	}
	if (!virtq_size_ok(queue_size, VIRTIO_BLK_QUEUE_SIZE_MIN, VIRTIO_BLK_QUEUE_SIZE_MAX)) {
		snprintf(err, errlen, "%s: queue size %u: need a power of two from %d to %d",
			 p->path, queue_size, VIRTIO_BLK_QUEUE_SIZE_MIN, VIRTIO_BLK_QUEUE_SIZE_MAX);
		return -EINVAL;
	}
	if (p->serial && strlen(p->serial) > BLK_ID_BYTES) {
		snprintf(err, errlen, "%s: serial \"%s\" longer than %d bytes", p->path,
			 p->serial, BLK_ID_BYTES);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "%s: %s", p->path, strerror(ENOMEM));
		return -ENOMEM;
	}
	b->fd = -1;
	ret = blk_open(b, p, &size, err, errlen);
	if (ret)
		goto err_free;
	b->readonly = p->readonly;
	b->dwz = p->discard && !p->readonly;
	b->capacity = size / BLK_SECTOR;
	if (p->serial)
		memcpy(b->serial, p->serial, strlen(p->serial));
	b->nr_queues = p->queues;
	b->queue_size = queue_size;

	b->io = blk_io_create(b->fd, b->block_dev, p->queues, queue_size, false,
			      why, sizeof(why));
	if (!b->io) {
		snprintf(err, errlen, "%s: %s", p->path, why);
		ret = -ENOMEM;
		goto err_free;
	}
	b->queues = calloc(p->queues, sizeof(*b->queues));
	if (!b->queues)
		goto err_nomem;
	for (unsigned int q = 0; q < p->queues; q++) {
		struct blk_queue *bq = &b->queues[q];

		bq->d = d;
		bq->index = q;
		bq->reqs = calloc(queue_size, sizeof(*bq->reqs));
		bq->free = calloc(queue_size, sizeof(*bq->free));
		if (!bq->reqs || !bq->free)
			goto err_nomem;
		for (unsigned int i = 0; i < queue_size; i++)
			bq->reqs[i].bq = bq;
		queue_clear(b, bq);
	}
	for (unsigned int q = 0; q < p->queues; q++) {
		ret = virtio_device_watch(d, blk_io_eventfd(b->io, q), EPOLLIN,
					  blk_io_event, &b->queues[q]);
		if (ret) {
			snprintf(err, errlen, "%s: cannot watch I/O completions: %s", p->path,
				 strerror(-ret));
			goto err_free;
		}
	}

	blk_fill_config(b, p->queues);
	d->priv = b;
	d->id = VIRTIO_ID_BLOCK;
	d->host_features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			   (1ULL << VIRTIO_BLK_F_FLUSH);
	if (p->queues > 1)
		d->host_features |= 1ULL << VIRTIO_BLK_F_MQ;
	if (p->readonly)
		d->host_features |= 1ULL << VIRTIO_BLK_F_RO;
	if (b->dwz)
		d->host_features |= (1ULL << VIRTIO_BLK_F_DISCARD) |
				    (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	d->nr_queues = p->queues;
	d->queue_size_max = (uint16_t)queue_size;
	d->config = (uint8_t *)&b->config;
	d->config_size = sizeof(b->config);
	d->ops = &blk_ops;
	pr_debug("%s: %s, %llu sectors, %u queue(s) of up to %u, %s", d->name, p->path,
		 (unsigned long long)b->capacity, p->queues, queue_size,
		 blk_io_uses_uring(b->io) ? "io_uring" : "I/O threads");
	return 0;

err_nomem:
	snprintf(err, errlen, "%s: %s", p->path, strerror(ENOMEM));
	ret = -ENOMEM;
err_free:
	blk_free(d, b);
	return ret;
}
