/*
 * The virtio-blk I/O engine: asynchronous reads, writes, flushes, discards
 * and write-zeroes on one file descriptor, through one io_uring per context
 * (a device queue), or a small thread pool where io_uring is unavailable.
 * Each context has an eventfd that becomes readable when requests finished.
 */
#ifndef VMM_VIRTIO_BLK_IO_H
#define VMM_VIRTIO_BLK_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_io_op {
	BLK_IO_READ,
	BLK_IO_WRITE,
	BLK_IO_FLUSH,		/* fdatasync */
	BLK_IO_DISCARD,		/* deallocate; may leave the data as it was */
	BLK_IO_ZERO,		/* write zeroes, keeping the blocks allocated */
	BLK_IO_ZERO_UNMAP,	/* write zeroes, deallocating where possible */
};

/*
 * One request, owned by the caller until it comes back through
 * blk_io_reap(). iov may be modified by the engine (short transfers).
 */
struct blk_io_req {
	enum blk_io_op op;
	bool sync;			/* a write followed by fdatasync (writethrough) */
	uint64_t offset, len;		/* bytes; len is the iovecs' total for reads/writes */
	struct iovec *iov;
	unsigned int iovcnt;
	int result;			/* at completion: 0 or a negative errno */

	/* The engine's. */
	unsigned int ctx;
	uint64_t done;			/* bytes transferred so far */
	bool syncing;			/* the fdatasync of a sync write */
	struct blk_io_req *next;
};

struct blk_io;

/*
 * An engine for fd with nr_ctx contexts of up to depth requests in flight
 * each. block_dev: fd is a block device (discard by BLKDISCARD). force_pool:
 * no io_uring (also forced by the environment, VMM_BLK_NO_URING=1). NULL
 * with err filled on failure.
 */
struct blk_io *blk_io_create(int fd, bool block_dev, unsigned int nr_ctx,
			     unsigned int depth, bool force_pool,
			     char *err, size_t errlen);
void blk_io_destroy(struct blk_io *io);
/* Whether requests go through io_uring (false: the thread pool). */
bool blk_io_uses_uring(const struct blk_io *io);
/* The eventfd of context ctx: readable when blk_io_reap() has work. */
int blk_io_eventfd(const struct blk_io *io, unsigned int ctx);

/*
 * Queue r on context ctx; it is started at the latest by blk_io_commit().
 * r comes back through blk_io_reap() (a failure to start it too).
 */
void blk_io_submit(struct blk_io *io, unsigned int ctx, struct blk_io_req *r);
/* Start what blk_io_submit() queued on ctx. */
void blk_io_commit(struct blk_io *io, unsigned int ctx);
/*
 * Hand every finished request of ctx to done (without blocking), after
 * reading the eventfd. The number of requests handed back.
 */
unsigned int blk_io_reap(struct blk_io *io, unsigned int ctx,
			 void (*done)(struct blk_io_req *r, void *opaque),
			 void *opaque);
/*
 * Wait until no request of ctx is in flight and forget them all: none
 * comes back through blk_io_reap(). Blocks; needs no event loop.
 */
void blk_io_drain(struct blk_io *io, unsigned int ctx);

#endif
