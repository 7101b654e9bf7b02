/*
 * A split virtqueue (VIRTIO 1.2, 2.7) seen from the device: taking chains
 * the driver made available and returning them used. Every guest address
 * and length is checked against guest RAM, descriptors are copied before
 * use, and loops, over-long chains and bad indirect tables stop the queue
 * (the caller puts the device in NEEDS_RESET). Nothing here touches memory
 * outside guest RAM whatever the guest writes.
 */
#ifndef VMM_VIRTIO_VIRTQ_H
#define VMM_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hw/guest_mem.h"

#define VIRTQ_MAX_SIZE		1024	/* queue size (a power of two), and chain length */

/* A queue size a device may offer or a driver set: a power of two in [min, max]. */
static inline bool virtq_size_ok(unsigned int n, unsigned int min, unsigned int max)
{
	return n >= min && n <= max && !(n & (n - 1));
}

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
#define VIRTQ_USED_F_NO_NOTIFY	1

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;			/* 0: not set up */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	/* Host views of the rings, checked once at setup. */
	volatile uint8_t *desc;		/* struct virtq_desc[size] */
	volatile uint8_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint8_t *used;		/* flags, idx, ring[size] (id, len), avail_event */
	uint16_t last_avail;		/* next avail entry to take */
	uint16_t used_idx;		/* next used entry to fill */
	uint16_t signalled_used;	/* used_idx when the driver was last interrupted */
	bool signalled_valid;
	uint64_t nr_used;		/* entries returned since setup (statistics) */
	bool broken;			/* the driver broke a rule: nothing more is taken */
	const char *error;		/* what it broke (static string) */
};

/* One chain: driver-readable buffers first (out), then device-writable (in). */
struct virtq_chain {
	uint16_t head;
	unsigned int nout, nin;
	uint64_t out_len, in_len;	/* bytes */
	struct iovec iov[VIRTQ_MAX_SIZE];	/* out ones, then in ones */
};

/*
 * Set the queue up from the driver's addresses. 0, or -EINVAL (size not a
 * power of two up to VIRTQ_MAX_SIZE, misaligned rings) or -EFAULT (a ring
 * outside guest RAM) with vq->error set.
 */
int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	       bool event_idx, bool indirect);
/* Forget the queue (reset). */
void virtq_reset(struct virtq *vq);

/*
 * Take the next available chain: 1 with *c filled, 0 when none is
 * available, -EIO when the driver broke a rule (vq->broken and vq->error
 * set; every later call also gives -EIO).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);
/* Give back the last chain taken without using it (pop it again later). */
void virtq_unpop(struct virtq *vq);
/* Return chain head as used, having written len bytes into its in buffers. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/*
 * Return n chains at once: the driver sees all of them or none (a packet
 * spread over several merged receive buffers).
 */
void virtq_push_n(struct virtq *vq, const uint16_t *heads, const uint32_t *lens,
		  unsigned int n);

/*
 * After pushing: whether the driver wants an interrupt now (its
 * NO_INTERRUPT flag, or with EVENT_IDX its used_event index).
 */
bool virtq_should_notify(struct virtq *vq);
/*
 * Tell the driver whether to kick: off while the device is already working
 * through the queue, on before it sleeps. virtq_enable_notify returns true
 * when more chains arrived meanwhile (the caller keeps going).
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);
/* Whether a chain is available. */
bool virtq_has_avail(struct virtq *vq);

/* Copy between a chain's buffers and a flat buffer; bytes copied. */
size_t virtq_copy_from_out(const struct virtq_chain *c, size_t skip, void *dst, size_t len);
size_t virtq_copy_to_in(const struct virtq_chain *c, size_t skip, const void *src, size_t len);

#endif
