/*
 * libFuzzer target: a split virtqueue whose guest RAM, ring addresses and
 * negotiated features come from the input, driven by a device that pops,
 * pushes, copies and toggles notifications as the input says.
 *
 * Input: 8 header bytes (flags, size, desc/avail/used offsets), a count of
 * operation bytes and the operations, then guest RAM (64 KiB, zeros past
 * the end of the input).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtq.h"
#include "fuzz_check.h"

#define RAM_GPA		0x10000ull
#define RAM_SIZE	0x10000ull
#define MAX_OPS		256
#define MAX_HELD	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t take16(struct input *in)
{
	uint16_t lo = take8(in);

	return (uint16_t)(lo | take8(in) << 8);
}

static uint8_t *ram;
static uint8_t shadow[RAM_SIZE];	/* what the guest wrote */
static struct guest_mem mem;
static struct virtq_chain chain;
static uint8_t scratch[8192];

/* Every iovec inside RAM, counts and totals as documented. */
static void check_chain(const struct virtq *vq, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	CHECK(c->nout + c->nin <= VIRTQ_MAX_SIZE);
	CHECK(c->head < vq->size);
	for (unsigned int i = 0; i < c->nout + c->nin; i++) {
		const uint8_t *b = c->iov[i].iov_base;
		size_t l = c->iov[i].iov_len;

		CHECK(l == 0 || (b >= ram && b <= ram + RAM_SIZE && l <= (size_t)(ram + RAM_SIZE - b)));
		if (i < c->nout)
			out += l;
		else
			in += l;
	}
	CHECK(out == c->out_len);
	CHECK(in == c->in_len);
}

/* The header's addresses: offsets around RAM, a few of them outside it. */
static uint64_t ring_gpa(uint16_t off)
{
	return RAM_GPA - 0x400 + off + (off >= 0xfc00 ? 0x800 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct virtq vq;
	uint16_t held[MAX_HELD];
	uint32_t held_len[MAX_HELD];
	unsigned int nheld = 0, nops;
	bool wrote_in = false;
	uint8_t flags = take8(&in);
	uint8_t sz = take8(&in);
	uint16_t qsize;
	uint64_t desc = ring_gpa(take16(&in));
	uint64_t avail = ring_gpa(take16(&in));
	uint64_t used = ring_gpa(take16(&in));
	struct input ops;
	int ret;

	if (!ram) {
		ram = malloc(RAM_SIZE);	/* exactly RAM: ASan sees any byte past it */
		if (!ram)
			abort();
		mem.nr = 1;
		mem.regions[0] = (struct guest_region){ RAM_GPA, RAM_SIZE, ram };
	}
	/* Mostly powers of two up to 1024; now and then any 16-bit size. */
	qsize = (flags & 0x80) ? (uint16_t)(sz | (flags & 0x7c) << 6) : (uint16_t)(1u << (sz % 12));
	nops = take8(&in);
	ops.p = in.p;
	ops.left = nops < in.left ? nops : in.left;
	in.p += ops.left;
	in.left -= ops.left;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, in.p, in.left < RAM_SIZE ? in.left : RAM_SIZE);

	memset(&vq, 0, sizeof(vq));
	ret = virtq_init(&vq, &mem, qsize, desc, avail, used, flags & 1, flags & 2);
	if (ret) {
		CHECK(ret == -EINVAL || ret == -EFAULT);
		CHECK(vq.error);
		return 0;
	}
	CHECK(vq.size == qsize);
	memcpy(shadow, ram, RAM_SIZE);

	for (unsigned int n = 0; n < MAX_OPS && ops.left; n++) {
		uint8_t op = take8(&ops);

		switch (op & 7) {
		case 0:		/* take one; hold it for a later push */
		case 1:
			ret = virtq_pop(&vq, &chain);
			CHECK(ret == 1 || ret == 0 || ret == -EIO);
			if (ret < 0) {
				CHECK(vq.broken && vq.error);
				CHECK(virtq_pop(&vq, &chain) == -EIO);
				goto done;
			}
			if (ret == 1) {
				check_chain(&vq, &chain);
				if (nheld < MAX_HELD) {
					held[nheld] = chain.head;
					held_len[nheld++] = (uint32_t)(chain.in_len < (op >> 3) * 64u ?
								       chain.in_len : (op >> 3) * 64u);
				}
			}
			break;
		case 2:		/* give the last one back, or return one used */
			if (op & 8) {
				if (nheld) {
					nheld--;
					virtq_unpop(&vq);
				}
			} else if (nheld) {
				unsigned int i = (op >> 4) % nheld;

				virtq_push(&vq, held[i], held_len[i]);
				held[i] = held[--nheld];
				held_len[i] = held_len[nheld];
				(void)virtq_should_notify(&vq);
			}
			break;
		case 3:		/* return everything held at once */
			if (nheld) {
				virtq_push_n(&vq, held, held_len, nheld);
				nheld = 0;
			}
			(void)virtq_should_notify(&vq);
			break;
		case 4:
			if (op & 8)
				virtq_disable_notify(&vq);
			else
				(void)virtq_enable_notify(&vq);
			(void)virtq_has_avail(&vq);
			break;
		case 5:		/* the guest writes RAM meanwhile */
		{
			uint16_t off = take16(&ops);
			uint8_t v = take8(&ops);

			ram[off % RAM_SIZE] = v;
			shadow[off % RAM_SIZE] = v;
			break;
		}
		case 6:		/* drain as a device does before it sleeps */
			for (unsigned int i = 0; i < 2u * VIRTQ_MAX_SIZE; i++) {
				ret = virtq_pop(&vq, &chain);
				if (ret <= 0)
					break;
				check_chain(&vq, &chain);
				virtq_push(&vq, chain.head, 0);
			}
			if (ret < 0) {
				CHECK(vq.broken && vq.error);
				goto done;
			}
			(void)virtq_should_notify(&vq);
			break;
		case 7:		/* copy through the last chain popped */
			ret = virtq_pop(&vq, &chain);
			if (ret < 0)
				goto done;
			if (ret == 1) {
				size_t skip = take16(&ops), len = take16(&ops) % sizeof(scratch);
				size_t got;

				check_chain(&vq, &chain);
				got = virtq_copy_from_out(&chain, skip, scratch, len);
				CHECK(got <= len && (skip >= chain.out_len ? got == 0 :
						     got == (len < chain.out_len - skip ? len : chain.out_len - skip)));
				got = virtq_copy_to_in(&chain, skip, scratch, len);
				wrote_in |= got > 0;
				CHECK(got <= len && (skip >= chain.in_len ? got == 0 :
						     got == (len < chain.in_len - skip ? len : chain.in_len - skip)));
				virtq_push(&vq, chain.head, (uint32_t)got);
				(void)virtq_should_notify(&vq);
			}
			break;
		}
	}
done:
	/* Without copies into buffers, the queue writes only its used ring. */
	if (!wrote_in) {
		uint64_t u = used - RAM_GPA, end = u + 6 + 8ull * qsize;

		CHECK(!memcmp(ram, shadow, u));
		CHECK(end >= RAM_SIZE || !memcmp(ram + end, shadow + end, RAM_SIZE - end));
	}
	virtq_reset(&vq);
	return 0;
}
