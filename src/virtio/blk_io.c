/*
 * The virtio-blk I/O engine: io_uring per context, with a lazily started
 * thread pool for what io_uring cannot do (BLKDISCARD, written zeroes) and
 * for everything when io_uring is unavailable or VMM_BLK_NO_URING=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/log.h"
#include "virtio/blk_io.h"

#define POOL_THREADS	4
#define ZERO_BUF_SIZE	(64 * 1024)

struct blk_io_ctx {
	int efd;
	bool ring_ok;
	struct io_uring ring;
	unsigned int uring_inflight;	/* SQEs queued or in the kernel */
	/* Under io->lock. */
	unsigned int pool_inflight;	/* pending or running in the pool */
	struct blk_io_req *done_head, **done_tail;
};

struct blk_io {
	int fd;
	bool block_dev;
	bool uring;
	unsigned int nr_ctx;
	struct blk_io_ctx *ctx;
	void *zeroes;			/* aligned for O_DIRECT */

	pthread_mutex_t lock;
	pthread_cond_t work;		/* pending requests or quit */
	pthread_cond_t idle;		/* a context's pool_inflight fell to 0 */
	struct blk_io_req *pend_head, **pend_tail;
	pthread_t threads[POOL_THREADS];
	unsigned int nr_threads, nr_idle, nr_pending;
	bool quit;
};

static void signal_ctx(struct blk_io_ctx *c)
{
	uint64_t one = 1;

	if (write(c->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_err("blk: completion eventfd: %m");
}

/* Under io->lock: r is finished (or never started); tell its context. */
static void post_done(struct blk_io *io, struct blk_io_req *r)
{
	struct blk_io_ctx *c = &io->ctx[r->ctx];

	r->next = NULL;
	*c->done_tail = r;
	c->done_tail = &r->next;
	signal_ctx(c);
}

static void advance_iov(struct blk_io_req *r, uint64_t n)
{
	while (n && r->iovcnt) {
		if (n < r->iov->iov_len) {
			r->iov->iov_base = (uint8_t *)r->iov->iov_base + n;
			r->iov->iov_len -= n;
			return;
		}
		n -= r->iov->iov_len;
		r->iov++;
		r->iovcnt--;
	}
	/* Drop empty leading buffers so a zero-length transfer means EOF. */
	while (r->iovcnt && !r->iov->iov_len) {
		r->iov++;
		r->iovcnt--;
	}
}

/* The synchronous operations (pool threads). */

static int sync_rw(struct blk_io *io, struct blk_io_req *r)
{
	advance_iov(r, 0);
	while (r->done < r->len) {
		ssize_t n;

		if (!r->iovcnt)
			return -EIO;
		if (r->op == BLK_IO_READ)
			n = preadv(io->fd, r->iov, (int)r->iovcnt, (off_t)(r->offset + r->done));
		else
			n = pwritev(io->fd, r->iov, (int)r->iovcnt, (off_t)(r->offset + r->done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		r->done += (uint64_t)n;
		advance_iov(r, (uint64_t)n);
	}
	return 0;
}

static int sync_write_zeroes(struct blk_io *io, struct blk_io_req *r)
{
	while (r->done < r->len) {
		uint64_t left = r->len - r->done;
		size_t n = left < ZERO_BUF_SIZE ? (size_t)left : ZERO_BUF_SIZE;
		ssize_t w = pwrite(io->fd, io->zeroes, n, (off_t)(r->offset + r->done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		r->done += (uint64_t)w;
	}
	return 0;
}

static int sync_fallocate(struct blk_io *io, int mode, struct blk_io_req *r)
{
	int ret;

	do {
		ret = fallocate(io->fd, mode, (off_t)r->offset, (off_t)r->len);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static bool not_supported(int err)
{
	return err == -EOPNOTSUPP || err == -ENOTSUP || err == -ENOSYS || err == -EINVAL;
}

static int sync_op(struct blk_io *io, struct blk_io_req *r)
{
	uint64_t range[2] = { r->offset, r->len };
	int ret = 0;

	switch (r->op) {
	case BLK_IO_READ:
		return sync_rw(io, r);
	case BLK_IO_WRITE:
		ret = sync_rw(io, r);
		break;
	case BLK_IO_FLUSH:
		return fdatasync(io->fd) < 0 ? -errno : 0;
	case BLK_IO_DISCARD:
		/* Discarding is advisory: where the backend cannot, nothing happens. */
		if (io->block_dev)
			ret = ioctl(io->fd, BLKDISCARD, range) < 0 ? -errno : 0;
		else
			ret = sync_fallocate(io, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r);
		if (not_supported(ret))
			ret = 0;
		break;
	case BLK_IO_ZERO_UNMAP:
		ret = sync_fallocate(io, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r);
		if (!not_supported(ret))
			break;
		/* fall through */
	case BLK_IO_ZERO:
		ret = sync_fallocate(io, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, r);
		if (not_supported(ret))
			ret = sync_write_zeroes(io, r);
		break;
	}
	if (!ret && r->sync && fdatasync(io->fd) < 0)
		ret = -errno;
	return ret;
}

static void *pool_thread(void *opaque)
{
	struct blk_io *io = opaque;

	pthread_mutex_lock(&io->lock);
	for (;;) {
		struct blk_io_req *r;
		struct blk_io_ctx *c;

		while (!io->quit && !io->pend_head) {
			io->nr_idle++;
			pthread_cond_wait(&io->work, &io->lock);
			io->nr_idle--;
		}
		if (io->quit)
			break;
		r = io->pend_head;
		io->nr_pending--;
		io->pend_head = r->next;
		if (!io->pend_head)
			io->pend_tail = &io->pend_head;
		pthread_mutex_unlock(&io->lock);

		r->result = sync_op(io, r);

		pthread_mutex_lock(&io->lock);
		c = &io->ctx[r->ctx];
		post_done(io, r);
		if (!--c->pool_inflight)
			pthread_cond_broadcast(&io->idle);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

static void pool_submit(struct blk_io *io, struct blk_io_req *r)
{
	pthread_mutex_lock(&io->lock);
	if (io->nr_pending >= io->nr_idle && io->nr_threads < POOL_THREADS) {
		int ret = pthread_create(&io->threads[io->nr_threads], NULL, pool_thread, io);

		if (!ret)
			io->nr_threads++;
		else if (!io->nr_threads)
			pr_err("blk: cannot start an I/O thread: %s", strerror(ret));
	}
	if (!io->nr_threads) {
		r->result = -EAGAIN;
		post_done(io, r);
		pthread_mutex_unlock(&io->lock);
		return;
	}
	r->next = NULL;
	*io->pend_tail = r;
	io->pend_tail = &r->next;
	io->nr_pending++;
	io->ctx[r->ctx].pool_inflight++;
	pthread_cond_signal(&io->work);
	pthread_mutex_unlock(&io->lock);
}

static void fail_now(struct blk_io *io, struct blk_io_req *r, int err)
{
	pthread_mutex_lock(&io->lock);
	r->result = err;
	post_done(io, r);
	pthread_mutex_unlock(&io->lock);
}

/* io_uring: queue the next step of r (its first, or the rest of a short transfer). */
static void uring_queue(struct blk_io *io, struct blk_io_ctx *c, struct blk_io_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);
	off_t off = (off_t)(r->offset + r->done);

	if (!sqe) {
		io_uring_submit(&c->ring);
		sqe = io_uring_get_sqe(&c->ring);
	}
	if (!sqe) {
		fail_now(io, r, -EBUSY);
		return;
	}
	if (r->syncing) {
		io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
	} else {
		switch (r->op) {
		case BLK_IO_READ:
			io_uring_prep_readv(sqe, io->fd, r->iov, r->iovcnt, off);
			break;
		case BLK_IO_WRITE:
			io_uring_prep_writev(sqe, io->fd, r->iov, r->iovcnt, off);
			break;
		case BLK_IO_FLUSH:
			io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
			break;
		case BLK_IO_DISCARD:
		case BLK_IO_ZERO_UNMAP:
			io_uring_prep_fallocate(sqe, io->fd,
						FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						off, (off_t)r->len);
			break;
		case BLK_IO_ZERO:
			io_uring_prep_fallocate(sqe, io->fd,
						FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
						off, (off_t)r->len);
			break;
		}
	}
	io_uring_sqe_set_data(sqe, r);
	c->uring_inflight++;
}

void blk_io_submit(struct blk_io *io, unsigned int ctx, struct blk_io_req *r)
{
	struct blk_io_ctx *c = &io->ctx[ctx];

	r->ctx = ctx;
	r->done = 0;
	r->result = 0;
	r->syncing = false;
	if (!io->uring || (r->op == BLK_IO_DISCARD && io->block_dev)) {
		pool_submit(io, r);
		return;
	}
	uring_queue(io, c, r);
}

void blk_io_commit(struct blk_io *io, unsigned int ctx)
{
	struct blk_io_ctx *c = &io->ctx[ctx];
	int ret;

	if (!io->uring || !io_uring_sq_ready(&c->ring))
		return;
	ret = io_uring_submit(&c->ring);
	if (ret < 0)
		pr_err("blk: io_uring_submit: %s", strerror(-ret));
}

/*
 * A CQE for r with result res: true when r is finished, false when its
 * next step was queued (short transfer, the fdatasync of a sync write) or
 * it went to the pool.
 */
static bool uring_step(struct blk_io *io, struct blk_io_ctx *c, struct blk_io_req *r, int res)
{
	bool rw = r->op == BLK_IO_READ || r->op == BLK_IO_WRITE;

	if (res < 0) {
		if ((r->op == BLK_IO_ZERO || r->op == BLK_IO_ZERO_UNMAP) &&
		    !r->syncing && not_supported(res)) {
			pool_submit(io, r);
			return false;
		}
		if (r->op == BLK_IO_DISCARD && !r->syncing && not_supported(res))
			res = 0;
		else if (res == -EINTR || res == -EAGAIN) {
			uring_queue(io, c, r);
			return false;
		} else {
			r->result = res;
			return true;
		}
	}
	if (rw && !r->syncing) {
		if (res == 0 && r->done < r->len) {
			r->result = -EIO;
			return true;
		}
		r->done += (uint64_t)res;
		advance_iov(r, (uint64_t)res);
		if (r->done < r->len) {
			uring_queue(io, c, r);
			return false;
		}
	}
	if (r->sync && !r->syncing && r->op != BLK_IO_READ && r->op != BLK_IO_FLUSH) {
		r->syncing = true;
		uring_queue(io, c, r);
		return false;
	}
	r->result = 0;
	return true;
}

unsigned int blk_io_reap(struct blk_io *io, unsigned int ctx,
			 void (*done)(struct blk_io_req *r, void *opaque),
			 void *opaque)
{
	struct blk_io_ctx *c = &io->ctx[ctx];
	struct blk_io_req *list;
	unsigned int n = 0;
	uint64_t v;

	if (read(c->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_err("blk: completion eventfd: %m");

	if (io->uring) {
		struct io_uring_cqe *cqe;

		while (!io_uring_peek_cqe(&c->ring, &cqe)) {
			struct blk_io_req *r = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&c->ring, cqe);
			c->uring_inflight--;
			if (uring_step(io, c, r, res)) {
				done(r, opaque);
				n++;
			}
		}
		blk_io_commit(io, ctx);
	}

	pthread_mutex_lock(&io->lock);
	list = c->done_head;
	c->done_head = NULL;
	c->done_tail = &c->done_head;
	pthread_mutex_unlock(&io->lock);
	while (list) {
		struct blk_io_req *r = list;

		list = r->next;
		done(r, opaque);
		n++;
	}
	return n;
}

void blk_io_drain(struct blk_io *io, unsigned int ctx)
{
	struct blk_io_ctx *c = &io->ctx[ctx];
	struct blk_io_req **pp;

	while (io->uring && c->uring_inflight) {
		struct io_uring_cqe *cqe;
		int ret;

		if (io_uring_sq_ready(&c->ring))
			ret = io_uring_submit_and_wait(&c->ring, 1);
		else
			ret = io_uring_wait_cqe(&c->ring, &cqe);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			/* Cannot happen with a working ring; never return with I/O in flight. */
			pr_err("blk: waiting for io_uring: %s", strerror(-ret));
			usleep(1000);
			continue;
		}
		while (!io_uring_peek_cqe(&c->ring, &cqe)) {
			io_uring_cqe_seen(&c->ring, cqe);
			c->uring_inflight--;
		}
	}

	pthread_mutex_lock(&io->lock);
	for (pp = &io->pend_head; *pp;) {
		struct blk_io_req *r = *pp;

		if (r->ctx != ctx) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		io->nr_pending--;
		c->pool_inflight--;
	}
	io->pend_tail = &io->pend_head;
	while (*io->pend_tail)
		io->pend_tail = &(*io->pend_tail)->next;
	while (c->pool_inflight)
		pthread_cond_wait(&io->idle, &io->lock);
	c->done_head = NULL;
	c->done_tail = &c->done_head;
	pthread_mutex_unlock(&io->lock);
}

bool blk_io_uses_uring(const struct blk_io *io)
{
	return io->uring;
}

int blk_io_eventfd(const struct blk_io *io, unsigned int ctx)
{
	return io->ctx[ctx].efd;
}

static bool uring_forbidden(void)
{
	const char *e = getenv("VMM_BLK_NO_URING");

	return e && *e && strcmp(e, "0");
}

static void close_rings(struct blk_io *io)
{
	for (unsigned int i = 0; i < io->nr_ctx; i++) {
		if (io->ctx[i].ring_ok)
			io_uring_queue_exit(&io->ctx[i].ring);
		io->ctx[i].ring_ok = false;
	}
}

static int open_rings(struct blk_io *io, unsigned int depth)
{
	for (unsigned int i = 0; i < io->nr_ctx; i++) {
		struct blk_io_ctx *c = &io->ctx[i];
		int ret = io_uring_queue_init(depth, &c->ring, 0);

		if (ret)
			return ret;
		c->ring_ok = true;
		ret = io_uring_register_eventfd(&c->ring, c->efd);
		if (ret)
			return ret;
	}
	return 0;
}

struct blk_io *blk_io_create(int fd, bool block_dev, unsigned int nr_ctx,
			     unsigned int depth, bool force_pool,
			     char *err, size_t errlen)
{
	struct blk_io *io = calloc(1, sizeof(*io));
	unsigned int i;
	int ret;

	if (!io) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	io->fd = fd;
	io->block_dev = block_dev;
	io->nr_ctx = nr_ctx;
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->work, NULL);
	pthread_cond_init(&io->idle, NULL);
	io->pend_tail = &io->pend_head;
	io->ctx = calloc(nr_ctx, sizeof(*io->ctx));
	if (!io->ctx || posix_memalign(&io->zeroes, 4096, ZERO_BUF_SIZE)) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto err_free;
	}
	memset(io->zeroes, 0, ZERO_BUF_SIZE);
	for (i = 0; i < nr_ctx; i++)
		io->ctx[i].efd = -1;
	for (i = 0; i < nr_ctx; i++) {
		io->ctx[i].done_tail = &io->ctx[i].done_head;
		io->ctx[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (io->ctx[i].efd < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto err_free;
		}
	}

	if (force_pool || uring_forbidden()) {
		pr_debug("blk: io_uring not used (forced), I/O threads instead");
		return io;
	}
	ret = open_rings(io, depth);
	if (ret) {
		pr_info("blk: io_uring unavailable (%s), I/O threads instead", strerror(-ret));
		close_rings(io);
		return io;
	}
	io->uring = true;
	return io;

err_free:
	blk_io_destroy(io);
	return NULL;
}

void blk_io_destroy(struct blk_io *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	io->quit = true;
	pthread_cond_broadcast(&io->work);
	pthread_mutex_unlock(&io->lock);
	for (unsigned int i = 0; i < io->nr_threads; i++)
		pthread_join(io->threads[i], NULL);
	if (io->ctx) {
		close_rings(io);
		for (unsigned int i = 0; i < io->nr_ctx; i++)
			if (io->ctx[i].efd >= 0)
				close(io->ctx[i].efd);
	}
	pthread_cond_destroy(&io->work);
	pthread_cond_destroy(&io->idle);
	pthread_mutex_destroy(&io->lock);
	free(io->zeroes);
	free(io->ctx);
	free(io);
}
