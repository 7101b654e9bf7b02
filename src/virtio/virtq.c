/*
 * The device side of a split virtqueue (VIRTIO 1.2, 2.7): ring checks at
 * setup, chain walking with indirect tables, used ring and notification
 * suppression (flags or EVENT_IDX).
 */
#include <errno.h>
#include <string.h>

#include "virtio/virtq.h"

/*
 * Guest-shared memory is read and written with single loads and stores of
 * the right width (x86 is little-endian and tolerates unaligned access);
 * the aligned(1) types keep the compiler honest for indirect tables, which
 * the spec does not require to be aligned.
 */
typedef uint16_t __attribute__((aligned(1), may_alias)) una16;
typedef uint32_t __attribute__((aligned(1), may_alias)) una32;
typedef uint64_t __attribute__((aligned(1), may_alias)) una64;

static inline uint16_t ld16(volatile const uint8_t *p)
{
	return *(volatile const una16 *)p;
}

static inline uint32_t ld32(volatile const uint8_t *p)
{
	return *(volatile const una32 *)p;
}

static inline uint64_t ld64(volatile const uint8_t *p)
{
	return *(volatile const una64 *)p;
}

static inline void st16(volatile uint8_t *p, uint16_t v)
{
	*(volatile una16 *)p = v;
}

static inline void st32(volatile uint8_t *p, uint32_t v)
{
	*(volatile una32 *)p = v;
}

#define acquire_fence()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define release_fence()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define full_fence()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

/* Byte offsets inside the rings. */
#define DESC_SIZE		16
#define AVAIL_FLAGS		0
#define AVAIL_IDX		2
#define AVAIL_RING(i)		(4 + 2 * (size_t)(i))
#define USED_FLAGS		0
#define USED_IDX		2
#define USED_RING(i)		(4 + 8 * (size_t)(i))

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static void read_desc(volatile const uint8_t *p, struct desc *d)
{
	d->addr = ld64(p);
	d->len = ld32(p + 8);
	d->flags = ld16(p + 12);
	d->next = ld16(p + 14);
}

static int vq_break(struct virtq *vq, const char *why)
{
	vq->broken = true;
	vq->error = why;
	return -EIO;
}

int virtq_init(struct virtq *vq, const struct guest_mem *mem, uint16_t size,
	       uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa,
	       bool event_idx, bool indirect)
{
	void *desc, *avail, *used;

	memset(vq, 0, sizeof(*vq));
	if (!virtq_size_ok(size, 1, VIRTQ_MAX_SIZE)) {
		vq->error = "queue size not a power of two up to 1024";
		return -EINVAL;
	}
	if ((desc_gpa & 15) || (avail_gpa & 1) || (used_gpa & 3)) {
		vq->error = "misaligned ring";
		return -EINVAL;
	}
	desc = guest_mem_ptr(mem, desc_gpa, (uint64_t)DESC_SIZE * size);
	avail = guest_mem_ptr(mem, avail_gpa, 6 + 2 * (uint64_t)size);
	used = guest_mem_ptr(mem, used_gpa, 6 + 8 * (uint64_t)size);
	if (!desc || !avail || !used) {
		vq->error = "ring outside guest RAM";
		return -EFAULT;
	}
	vq->mem = mem;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->size = size;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static inline volatile uint8_t *used_event(struct virtq *vq)
{
	return vq->avail + AVAIL_RING(vq->size);
}

static inline volatile uint8_t *avail_event(struct virtq *vq)
{
	return vq->used + USED_RING(vq->size);
}

/* Add one buffer to the chain: out ones must all come before in ones. */
static int add_buf(struct virtq *vq, struct virtq_chain *c,
		   const struct desc *d, unsigned int *visited)
{
	void *p;

	if (++*visited > VIRTQ_MAX_SIZE)
		return vq_break(vq, "chain too long");
	if (!d->len)
		return vq_break(vq, "zero-length descriptor");
	p = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return vq_break(vq, "descriptor outside guest RAM");
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		c->iov[c->nout + c->nin].iov_base = p;
		c->iov[c->nout + c->nin].iov_len = d->len;
		c->nin++;
		c->in_len += d->len;
		return 0;
	}
	if (c->nin)
		return vq_break(vq, "readable descriptor after writable one");
	c->iov[c->nout].iov_base = p;
	c->iov[c->nout].iov_len = d->len;
	c->nout++;
	c->out_len += d->len;
	return 0;
}

static int walk_indirect(struct virtq *vq, struct virtq_chain *c,
			 const struct desc *ind, unsigned int *visited)
{
	volatile const uint8_t *table;
	unsigned int n, i, count = 0;
	struct desc d;
	int ret;

	if (!vq->indirect)
		return vq_break(vq, "indirect descriptor not negotiated");
	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return vq_break(vq, "indirect descriptor with NEXT");
	if (!ind->len || ind->len % DESC_SIZE ||
	    ind->len / DESC_SIZE > VIRTQ_MAX_SIZE)
		return vq_break(vq, "bad indirect table length");
	table = guest_mem_ptr(vq->mem, ind->addr, ind->len);
	if (!table)
		return vq_break(vq, "indirect table outside guest RAM");
	n = ind->len / DESC_SIZE;
	i = 0;
	for (;;) {
		if (++count > n)
			return vq_break(vq, "indirect chain loops");
		read_desc(table + (size_t)i * DESC_SIZE, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return vq_break(vq, "nested indirect table");
		ret = add_buf(vq, c, &d, visited);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return vq_break(vq, "indirect next out of range");
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	unsigned int count = 0, visited = 0;
	uint16_t avail_idx, head, i;
	struct desc d;
	int ret;

	if (vq->broken)
		return -EIO;
	if (!vq->size)
		return 0;
	avail_idx = ld16(vq->avail + AVAIL_IDX);
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return vq_break(vq, "avail index jumped");
	if (avail_idx == vq->last_avail)
		return 0;
	/* The ring entry and descriptors are read after the index. */
	acquire_fence();
	head = ld16(vq->avail + AVAIL_RING(vq->last_avail & (vq->size - 1)));
	if (head >= vq->size)
		return vq_break(vq, "head index out of range");

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	i = head;
	for (;;) {
		if (++count > vq->size)
			return vq_break(vq, "chain loops or is too long");
		read_desc(vq->desc + (size_t)i * DESC_SIZE, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* Its NEXT is refused in walk_indirect: it ends the chain. */
			ret = walk_indirect(vq, c, &d, &visited);
			if (ret)
				return ret;
			break;
		}
		ret = add_buf(vq, c, &d, &visited);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->size)
			return vq_break(vq, "next index out of range");
		i = d.next;
	}
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	if (vq->size)
		vq->last_avail--;
}

void virtq_push_n(struct virtq *vq, const uint16_t *heads, const uint32_t *lens,
		  unsigned int n)
{
	uint16_t idx, old;
	bool crossed = false;

	if (!vq->size)
		return;
	idx = old = vq->used_idx;
	for (unsigned int i = 0; i < n; i++) {
		volatile uint8_t *e;

		if (heads[i] >= vq->size)
			continue;
		e = vq->used + USED_RING(idx & (vq->size - 1));
		st32(e, heads[i]);
		st32(e + 4, lens[i]);
		idx++;
		/* 65536 entries since the last interrupt: the old index means nothing. */
		if (idx == vq->signalled_used)
			crossed = true;
	}
	if (idx == old)
		return;
	/* The entries are visible before the index that publishes them. */
	release_fence();
	vq->nr_used += (uint16_t)(idx - old);
	vq->used_idx = idx;
	st16(vq->used + USED_IDX, vq->used_idx);
	if (crossed)
		vq->signalled_valid = false;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	virtq_push_n(vq, &head, &len, 1);
}

/* The driver asked for an interrupt when the used index passes event. */
static inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old, event;
	bool valid;

	if (!vq->size)
		return false;
	/* Our used->idx store is ordered before reading the driver's wish. */
	full_fence();
	if (!vq->event_idx)
		return !(ld16(vq->avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = ld16(used_event(vq));
	return need_event(event, vq->used_idx, old);
}

/*
 * With EVENT_IDX, avail_event is left where it is (as vhost and QEMU do):
 * the driver only kicks when its index crosses it, and it is moved up to
 * last_avail again by virtq_enable_notify.
 */
void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->size || vq->event_idx)
		return;
	st16(vq->used + USED_FLAGS,
	     ld16(vq->used + USED_FLAGS) | VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->size)
		return false;
	if (vq->event_idx)
		st16(avail_event(vq), vq->last_avail);
	else
		st16(vq->used + USED_FLAGS,
		     ld16(vq->used + USED_FLAGS) & ~VIRTQ_USED_F_NO_NOTIFY);
	/* Publish the wish before looking at avail->idx again. */
	full_fence();
	return virtq_has_avail(vq);
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->size || vq->broken)
		return false;
	return ld16(vq->avail + AVAIL_IDX) != vq->last_avail;
}

static size_t copy_iov(const struct iovec *iov, unsigned int n, size_t skip,
		       void *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t seg = iov[i].iov_len, chunk;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		chunk = seg - skip;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + skip,
			       (const uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done,
			       (const uint8_t *)iov[i].iov_base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t virtq_copy_from_out(const struct virtq_chain *c, size_t skip, void *dst, size_t len)
{
	return copy_iov(c->iov, c->nout, skip, dst, len, false);
}

size_t virtq_copy_to_in(const struct virtq_chain *c, size_t skip, const void *src, size_t len)
{
	return copy_iov(c->iov + c->nout, c->nin, skip, (void *)src, len, true);
}
