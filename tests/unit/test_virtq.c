/*
 * The split virtqueue driven by a simulated driver in a buffer of "guest
 * RAM": chains, indirect tables, index wrap, notification suppression, and
 * a driver breaking each rule.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio/virtq.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	(1 << 20)
#define QSZ		16
#define DESC_GPA	(RAM_GPA + 0x0)
#define AVAIL_GPA	(RAM_GPA + 0x1000)
#define USED_GPA	(RAM_GPA + 0x2000)
#define TABLE_GPA	(RAM_GPA + 0x4000)
#define DATA_GPA	(RAM_GPA + 0x10000)

struct drv {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtq vq;
	struct virtq_chain c;
	uint16_t qsz;
	uint16_t avail_idx;
};

static uint8_t *hva(struct drv *d, uint64_t gpa)
{
	return d->ram + (gpa - RAM_GPA);
}

static void wr16(struct drv *d, uint64_t gpa, uint16_t v)
{
	memcpy(hva(d, gpa), &v, 2);
}

static uint16_t rd16(struct drv *d, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, hva(d, gpa), 2);
	return v;
}

static uint32_t rd32(struct drv *d, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, hva(d, gpa), 4);
	return v;
}

static void put_desc(struct drv *d, uint64_t table, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = hva(d, table + 16 * (uint64_t)i);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static void set_desc(struct drv *d, uint16_t i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	put_desc(d, DESC_GPA, i, addr, len, flags, next);
}

/* Make head available as a driver does: ring entry, then idx. */
static void make_avail(struct drv *d, uint16_t head)
{
	wr16(d, AVAIL_GPA + 4 + 2 * (d->avail_idx % d->qsz), head);
	d->avail_idx++;
	wr16(d, AVAIL_GPA + 2, d->avail_idx);
}

static void set_used_event(struct drv *d, uint16_t v)
{
	wr16(d, AVAIL_GPA + 4 + 2 * d->qsz, v);
}

static uint16_t used_idx(struct drv *d)
{
	return rd16(d, USED_GPA + 2);
}

static uint16_t avail_event(struct drv *d)
{
	return rd16(d, USED_GPA + 4 + 8 * d->qsz);
}

static void drv_init(struct drv *d, uint16_t qsz, bool event_idx, bool indirect)
{
	memset(d->ram, 0, RAM_SIZE);
	d->qsz = qsz;
	d->avail_idx = 0;
	assert_int_equal(virtq_init(&d->vq, &d->mem, qsz, DESC_GPA, AVAIL_GPA,
				    USED_GPA, event_idx, indirect), 0);
}

static int setup(void **state)
{
	struct drv *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->ram = calloc(1, RAM_SIZE);
	if (!d->ram) {
		free(d);
		return -1;
	}
	d->mem.nr = 1;
	d->mem.regions[0].gpa = RAM_GPA;
	d->mem.regions[0].size = RAM_SIZE;
	d->mem.regions[0].hva = d->ram;
	drv_init(d, QSZ, false, false);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct drv *d = *state;

	free(d->ram);
	free(d);
	return 0;
}

static void test_simple_chain(void **state)
{
	struct drv *d = *state;

	assert_false(virtq_has_avail(&d->vq));
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);

	set_desc(d, 3, DATA_GPA, 10, VIRTQ_DESC_F_NEXT, 7);
	set_desc(d, 7, DATA_GPA + 0x100, 20, VIRTQ_DESC_F_WRITE, 0);
	make_avail(d, 3);
	assert_true(virtq_has_avail(&d->vq));
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 3);
	assert_int_equal(d->c.nout, 1);
	assert_int_equal(d->c.nin, 1);
	assert_int_equal(d->c.out_len, 10);
	assert_int_equal(d->c.in_len, 20);
	assert_ptr_equal(d->c.iov[0].iov_base, hva(d, DATA_GPA));
	assert_int_equal(d->c.iov[0].iov_len, 10);
	assert_ptr_equal(d->c.iov[1].iov_base, hva(d, DATA_GPA + 0x100));
	assert_int_equal(d->c.iov[1].iov_len, 20);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);
	assert_false(virtq_has_avail(&d->vq));

	virtq_push(&d->vq, 3, 17);
	assert_int_equal(used_idx(d), 1);
	assert_int_equal(rd32(d, USED_GPA + 4), 3);
	assert_int_equal(rd32(d, USED_GPA + 8), 17);

	/* A head we never gave out is not written. */
	virtq_push(&d->vq, QSZ, 1);
	assert_int_equal(used_idx(d), 1);
	assert_false(d->vq.broken);
}

static void test_multi_chain(void **state)
{
	struct drv *d = *state;
	static const uint16_t order[] = { 0, 5, 2, 9, 3, 15 };
	static const uint32_t lens[] = { 1, 2, 3, 4, 5, 6 };

	for (unsigned int i = 0; i < 6; i++) {
		uint16_t flags = (i < 5 ? VIRTQ_DESC_F_NEXT : 0) |
				 (i >= 3 ? VIRTQ_DESC_F_WRITE : 0);

		set_desc(d, order[i], DATA_GPA + 0x1000 * i, lens[i], flags,
			 i < 5 ? order[i + 1] : 0);
	}
	/* A second chain, a single readable buffer. */
	set_desc(d, 11, DATA_GPA + 0x8000, 64, 0, 0);
	make_avail(d, 0);
	make_avail(d, 11);

	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 0);
	assert_int_equal(d->c.nout, 3);
	assert_int_equal(d->c.nin, 3);
	assert_int_equal(d->c.out_len, 1 + 2 + 3);
	assert_int_equal(d->c.in_len, 4 + 5 + 6);
	for (unsigned int i = 0; i < 6; i++) {
		assert_ptr_equal(d->c.iov[i].iov_base, hva(d, DATA_GPA + 0x1000 * i));
		assert_int_equal(d->c.iov[i].iov_len, lens[i]);
	}

	/* Unpop gives the same chain again. */
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 11);
	virtq_unpop(&d->vq);
	assert_true(virtq_has_avail(&d->vq));
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 11);
	assert_int_equal(d->c.nout, 1);
	assert_int_equal(d->c.nin, 0);
	assert_int_equal(d->c.out_len, 64);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);

	virtq_push(&d->vq, 11, 0);
	virtq_push(&d->vq, 0, 15);
	assert_int_equal(used_idx(d), 2);
	assert_int_equal(rd32(d, USED_GPA + 4), 11);
	assert_int_equal(rd32(d, USED_GPA + 12), 0);
	assert_int_equal(rd32(d, USED_GPA + 16), 15);
}

/* A chain using every descriptor of the table is fine. */
static void test_full_length_chain(void **state)
{
	struct drv *d = *state;

	for (uint16_t i = 0; i < QSZ; i++)
		set_desc(d, i, DATA_GPA + 16 * i, 16,
			 i < QSZ - 1 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	make_avail(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nout, QSZ);
	assert_int_equal(d->c.out_len, 16 * QSZ);
}

static void test_indirect(void **state)
{
	struct drv *d = *state;

	drv_init(d, QSZ, false, true);
	/* Table of 4, walked 0 -> 2 -> 1 -> 3 (entry order is not chain order). */
	put_desc(d, TABLE_GPA, 0, DATA_GPA, 12, VIRTQ_DESC_F_NEXT, 2);
	put_desc(d, TABLE_GPA, 2, DATA_GPA + 0x100, 4, VIRTQ_DESC_F_NEXT, 1);
	put_desc(d, TABLE_GPA, 1, DATA_GPA + 0x200, 100,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	put_desc(d, TABLE_GPA, 3, DATA_GPA + 0x300, 1, VIRTQ_DESC_F_WRITE, 0);
	/* The WRITE flag on the descriptor pointing at a table is ignored. */
	set_desc(d, 6, TABLE_GPA, 4 * 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	make_avail(d, 6);

	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.head, 6);
	assert_int_equal(d->c.nout, 2);
	assert_int_equal(d->c.nin, 2);
	assert_int_equal(d->c.out_len, 16);
	assert_int_equal(d->c.in_len, 101);
	assert_ptr_equal(d->c.iov[0].iov_base, hva(d, DATA_GPA));
	assert_ptr_equal(d->c.iov[1].iov_base, hva(d, DATA_GPA + 0x100));
	assert_ptr_equal(d->c.iov[2].iov_base, hva(d, DATA_GPA + 0x200));
	assert_ptr_equal(d->c.iov[3].iov_base, hva(d, DATA_GPA + 0x300));

	/* A direct out buffer, then an indirect table ending the chain. */
	set_desc(d, 0, DATA_GPA + 0x400, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(d, 1, TABLE_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(d, TABLE_GPA + 0x100, 0, DATA_GPA + 0x500, 32,
		 VIRTQ_DESC_F_WRITE, 0);
	make_avail(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nout, 1);
	assert_int_equal(d->c.nin, 1);
	assert_int_equal(d->c.in_len, 32);
	assert_ptr_equal(d->c.iov[1].iov_base, hva(d, DATA_GPA + 0x500));
	assert_false(d->vq.broken);
}

static void test_wrap(void **state)
{
	struct drv *d = *state;
	const unsigned int rounds = 70000;

	drv_init(d, 4, false, false);
	for (uint16_t i = 0; i < 4; i++)
		set_desc(d, i, DATA_GPA + 0x100 * i, 8, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned int n = 0; n < rounds; n++) {
		uint16_t head = n % 4;

		make_avail(d, head);
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
		assert_int_equal(d->c.head, head);
		virtq_push(&d->vq, head, n & 0xff);
		assert_int_equal(used_idx(d), (uint16_t)(n + 1));
	}
	assert_int_equal(d->vq.last_avail, (uint16_t)rounds);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);

	/* A full ring across the 65535 -> 0 boundary. */
	while (d->avail_idx != 65534) {
		make_avail(d, 0);
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
		virtq_push(&d->vq, 0, 0);
	}
	for (uint16_t i = 0; i < 4; i++)
		make_avail(d, 3 - i);
	assert_int_equal(d->avail_idx, 2);
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
		assert_int_equal(d->c.head, 3 - i);
	}
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);
	assert_false(d->vq.broken);
}

static void test_event_idx_interrupt(void **state)
{
	struct drv *d = *state;

	drv_init(d, QSZ, true, false);
	/* The first push always interrupts: nothing was signalled yet. */
	set_used_event(d, 0);
	virtq_push(&d->vq, 0, 0);
	assert_true(virtq_should_notify(&d->vq));

	/* The driver wants an interrupt when the used index passes 5. */
	set_used_event(d, 5);
	for (unsigned int i = 2; i <= 5; i++) {
		virtq_push(&d->vq, 0, 0);
		assert_false(virtq_should_notify(&d->vq));
	}
	virtq_push(&d->vq, 0, 0);	/* used idx 6 */
	assert_true(virtq_should_notify(&d->vq));
	virtq_push(&d->vq, 0, 0);
	assert_false(virtq_should_notify(&d->vq));

	/* Several pushes at once crossing the event. */
	set_used_event(d, 8);
	virtq_push(&d->vq, 0, 0);
	virtq_push(&d->vq, 0, 0);
	virtq_push(&d->vq, 0, 0);	/* 7 -> 10 */
	assert_true(virtq_should_notify(&d->vq));

	/* The NO_INTERRUPT flag means nothing with EVENT_IDX. */
	wr16(d, AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	set_used_event(d, 10);
	virtq_push(&d->vq, 0, 0);
	assert_true(virtq_should_notify(&d->vq));

	/*
	 * 65536 pushes without asking: the used index is back where it was
	 * last signalled, yet the driver must hear about them.
	 */
	for (unsigned int i = 0; i < 65536; i++)
		virtq_push(&d->vq, 0, 0);
	set_used_event(d, used_idx(d) + 100);
	assert_true(virtq_should_notify(&d->vq));
	virtq_push(&d->vq, 0, 0);
	assert_false(virtq_should_notify(&d->vq));
}

static void test_no_interrupt_flag(void **state)
{
	struct drv *d = *state;

	virtq_push(&d->vq, 0, 0);
	assert_true(virtq_should_notify(&d->vq));
	wr16(d, AVAIL_GPA, VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_push(&d->vq, 0, 0);
	assert_false(virtq_should_notify(&d->vq));
	/* used_event is ignored without EVENT_IDX. */
	set_used_event(d, 1);
	wr16(d, AVAIL_GPA, 0);
	virtq_push(&d->vq, 0, 0);
	assert_true(virtq_should_notify(&d->vq));
}

static void test_notify_flags(void **state)
{
	struct drv *d = *state;

	set_desc(d, 0, DATA_GPA, 8, 0, 0);
	virtq_disable_notify(&d->vq);
	assert_int_equal(rd16(d, USED_GPA), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(rd16(d, USED_GPA), 0);

	virtq_disable_notify(&d->vq);
	make_avail(d, 0);
	assert_true(virtq_enable_notify(&d->vq));
	assert_int_equal(rd16(d, USED_GPA), 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(avail_event(d), 0);
}

static void test_notify_event_idx(void **state)
{
	struct drv *d = *state;

	drv_init(d, QSZ, true, false);
	set_desc(d, 0, DATA_GPA, 8, 0, 0);
	make_avail(d, 0);
	make_avail(d, 0);
	virtq_disable_notify(&d->vq);
	assert_int_equal(rd16(d, USED_GPA), 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(avail_event(d), 2);
	assert_int_equal(rd16(d, USED_GPA), 0);

	make_avail(d, 0);
	assert_true(virtq_enable_notify(&d->vq));
	assert_int_equal(avail_event(d), 2);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_false(virtq_enable_notify(&d->vq));
	assert_int_equal(avail_event(d), 3);
}

static void expect_broken(struct drv *d)
{
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_true(d->vq.broken);
	assert_non_null(d->vq.error);
	assert_int_equal(virtq_pop(&d->vq, &d->c), -EIO);
	assert_false(virtq_has_avail(&d->vq));
}

/* One chain of one descriptor at index 0 with these values. */
static void bad_single(struct drv *d, uint64_t addr, uint32_t len, uint16_t flags)
{
	drv_init(d, QSZ, false, true);
	set_desc(d, 0, addr, len, flags, 0);
	make_avail(d, 0);
	expect_broken(d);
}

static void test_bad_descriptors(void **state)
{
	struct drv *d = *state;

	bad_single(d, RAM_GPA + RAM_SIZE, 16, 0);
	bad_single(d, RAM_GPA - 16, 16, 0);
	bad_single(d, 0x1000, 16, VIRTQ_DESC_F_WRITE);
	bad_single(d, RAM_GPA + RAM_SIZE - 8, 16, 0);
	bad_single(d, 0xfffffffffffffff0ULL, 0x20, 0);
	bad_single(d, RAM_GPA + RAM_SIZE - 8, 0xfffffff8, VIRTQ_DESC_F_WRITE);
	bad_single(d, DATA_GPA, 0, 0);

	/* The last byte of RAM is fine. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, RAM_GPA + RAM_SIZE - 1, 1, 0, 0);
	make_avail(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
}

static void test_bad_chains(void **state)
{
	struct drv *d = *state;

	/* Loop: 0 -> 1 -> 0. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(d, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	make_avail(d, 0);
	expect_broken(d);

	/* Pointing at itself. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 4, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	make_avail(d, 4);
	expect_broken(d);

	/* Longer than the table: every entry, then back to the start. */
	drv_init(d, QSZ, false, false);
	for (uint16_t i = 0; i < QSZ; i++)
		set_desc(d, i, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, (i + 1) % QSZ);
	make_avail(d, 0);
	expect_broken(d);

	/* next out of range (a valid-looking descriptor lies just past the table). */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, QSZ);
	set_desc(d, QSZ, DATA_GPA, 8, 0, 0);
	make_avail(d, 0);
	expect_broken(d);

	/* Readable after writable. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, DATA_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(d, 1, DATA_GPA, 8, 0, 0);
	make_avail(d, 0);
	expect_broken(d);

	/* A head out of range. */
	drv_init(d, QSZ, false, false);
	set_desc(d, QSZ, DATA_GPA, 8, 0, 0);
	make_avail(d, QSZ);
	expect_broken(d);

	/* avail->idx more than size ahead. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, DATA_GPA, 8, 0, 0);
	wr16(d, AVAIL_GPA + 2, QSZ + 1);
	expect_broken(d);

	/* Exactly size ahead is fine. */
	drv_init(d, QSZ, false, false);
	set_desc(d, 0, DATA_GPA, 8, 0, 0);
	wr16(d, AVAIL_GPA + 2, QSZ);
	for (unsigned int i = 0; i < QSZ; i++)
		assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 0);

	/* Going backwards is a jump too. */
	wr16(d, AVAIL_GPA + 2, QSZ - 1);
	expect_broken(d);
}

static void indirect_case(struct drv *d, bool negotiated, uint64_t table,
			  uint32_t len, uint16_t flags)
{
	drv_init(d, QSZ, false, negotiated);
	for (uint16_t i = 0; i < 4; i++)
		put_desc(d, TABLE_GPA, i, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, i + 1);
	put_desc(d, TABLE_GPA, 3, DATA_GPA, 8, 0, 0);
	set_desc(d, 0, table, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	set_desc(d, 1, DATA_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	make_avail(d, 0);
}

static void test_bad_indirect(void **state)
{
	struct drv *d = *state;

	/* The well-formed case first, so each bad one differs by one thing. */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nout, 4);

	indirect_case(d, false, TABLE_GPA, 64, 0);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 64, VIRTQ_DESC_F_NEXT);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 0, 0);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 63, 0);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 24, 0);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 64 + 8, 0);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 16 * (VIRTQ_MAX_SIZE + 1), 0);
	expect_broken(d);
	indirect_case(d, true, RAM_GPA + RAM_SIZE - 32, 64, 0);
	expect_broken(d);
	indirect_case(d, true, 0, 64, 0);
	expect_broken(d);

	/* Nested table. */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 3, TABLE_GPA, 64, VIRTQ_DESC_F_INDIRECT, 0);
	expect_broken(d);

	/* Loop inside the table. */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 3, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	expect_broken(d);

	/* next beyond the table's end (but inside the queue size). */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 0, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 4);
	put_desc(d, TABLE_GPA, 4, DATA_GPA, 8, 0, 0);
	expect_broken(d);

	/* Readable after writable inside the table. */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 1, DATA_GPA, 8,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	expect_broken(d);

	/* A zero-length or out-of-RAM entry inside the table. */
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 2, DATA_GPA, 0, VIRTQ_DESC_F_NEXT, 3);
	expect_broken(d);
	indirect_case(d, true, TABLE_GPA, 64, 0);
	put_desc(d, TABLE_GPA, 2, RAM_GPA + RAM_SIZE, 8, VIRTQ_DESC_F_NEXT, 3);
	expect_broken(d);
}

/* A maximal indirect table (1024 entries) is taken; total stays bounded. */
static void test_indirect_max(void **state)
{
	struct drv *d = *state;

	drv_init(d, QSZ, false, true);
	for (uint16_t i = 0; i < VIRTQ_MAX_SIZE; i++)
		put_desc(d, TABLE_GPA, i, DATA_GPA + i, 1,
			 i < VIRTQ_MAX_SIZE - 1 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	set_desc(d, 0, TABLE_GPA, 16 * VIRTQ_MAX_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	make_avail(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);
	assert_int_equal(d->c.nout, VIRTQ_MAX_SIZE);
	assert_int_equal(d->c.out_len, VIRTQ_MAX_SIZE);

	/* One direct buffer before it makes 1025 buffers: refused. */
	set_desc(d, 1, DATA_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	make_avail(d, 1);
	expect_broken(d);
}

static int init(struct drv *d, struct virtq *vq, uint16_t size, uint64_t desc,
		uint64_t avail, uint64_t used)
{
	return virtq_init(vq, &d->mem, size, desc, avail, used, false, false);
}

static void test_init_checks(void **state)
{
	struct drv *d = *state;
	const uint64_t end = RAM_GPA + RAM_SIZE;
	struct virtq vq;

	assert_int_equal(init(d, &vq, 0, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_non_null(vq.error);
	assert_int_equal(vq.size, 0);
	assert_int_equal(init(d, &vq, 3, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(init(d, &vq, 2 * VIRTQ_MAX_SIZE, DESC_GPA, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_int_equal(init(d, &vq, VIRTQ_MAX_SIZE, DESC_GPA, DESC_GPA + 0x4000, DESC_GPA + 0x5000), 0);
	assert_int_equal(init(d, &vq, 1, DESC_GPA, AVAIL_GPA, USED_GPA), 0);

	vq.error = NULL;
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA + 8, AVAIL_GPA, USED_GPA), -EINVAL);
	assert_non_null(vq.error);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, AVAIL_GPA + 1, USED_GPA), -EINVAL);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, AVAIL_GPA + 2, USED_GPA + 4), 0);

	/* Each ring exactly at the end of RAM fits; one step further does not. */
	assert_int_equal(init(d, &vq, QSZ, end - 16 * QSZ, AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(init(d, &vq, QSZ, end - 16 * QSZ + 16, AVAIL_GPA, USED_GPA), -EFAULT);
	assert_non_null(vq.error);
	assert_int_equal(vq.size, 0);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, end - (6 + 2 * QSZ), USED_GPA), 0);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, end - (6 + 2 * QSZ) + 2, USED_GPA), -EFAULT);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, AVAIL_GPA, end - (8 + 8 * QSZ)), 0);
	assert_int_equal(init(d, &vq, QSZ, DESC_GPA, AVAIL_GPA, end - (8 + 8 * QSZ) + 4), -EFAULT);
	assert_int_equal(init(d, &vq, QSZ, 0, AVAIL_GPA, USED_GPA), -EFAULT);
	assert_int_equal(init(d, &vq, QSZ, 0xfffffffffffffff0ULL, AVAIL_GPA, USED_GPA), -EFAULT);

	/* A queue not set up (or reset) takes and gives nothing. */
	virtq_reset(&vq);
	assert_int_equal(vq.size, 0);
	assert_int_equal(virtq_pop(&vq, &d->c), 0);
	assert_false(virtq_has_avail(&vq));
	assert_false(virtq_should_notify(&vq));
	virtq_push(&vq, 0, 0);
}

static void test_copy(void **state)
{
	struct drv *d = *state;
	uint8_t buf[64], src[16];

	for (unsigned int i = 0; i < 15; i++)
		hva(d, DATA_GPA)[i] = 'a' + i;
	/* Out: 3 + 5 + 7 bytes from one run of letters; in: 4 + 4 bytes. */
	set_desc(d, 0, DATA_GPA, 3, VIRTQ_DESC_F_NEXT, 1);
	set_desc(d, 1, DATA_GPA + 3, 5, VIRTQ_DESC_F_NEXT, 2);
	set_desc(d, 2, DATA_GPA + 8, 7, VIRTQ_DESC_F_NEXT, 3);
	set_desc(d, 3, DATA_GPA + 0x100, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	set_desc(d, 4, DATA_GPA + 0x200, 4, VIRTQ_DESC_F_WRITE, 0);
	make_avail(d, 0);
	assert_int_equal(virtq_pop(&d->vq, &d->c), 1);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_copy_from_out(&d->c, 0, buf, sizeof(buf)), 15);
	assert_memory_equal(buf, "abcdefghijklmno", 15);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(virtq_copy_from_out(&d->c, 2, buf, 7), 7);
	assert_memory_equal(buf, "cdefghi", 7);
	assert_int_equal(buf[7], 0);
	assert_int_equal(virtq_copy_from_out(&d->c, 8, buf, 100), 7);
	assert_memory_equal(buf, "ijklmno", 7);
	assert_int_equal(virtq_copy_from_out(&d->c, 15, buf, 10), 0);
	assert_int_equal(virtq_copy_from_out(&d->c, 100, buf, 10), 0);

	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = 'A' + i;
	assert_int_equal(virtq_copy_to_in(&d->c, 3, src, sizeof(src)), 5);
	assert_memory_equal(hva(d, DATA_GPA + 0x100), "\0\0\0A", 4);
	assert_memory_equal(hva(d, DATA_GPA + 0x200), "BCDE", 4);
	assert_int_equal(hva(d, DATA_GPA + 0x204)[0], 0);
	assert_int_equal(virtq_copy_to_in(&d->c, 0, src, 2), 2);
	assert_memory_equal(hva(d, DATA_GPA + 0x100), "AB\0A", 4);
	/* The out buffers are untouched by copy_to_in. */
	assert_memory_equal(hva(d, DATA_GPA), "abcdefghijklmno", 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_length_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_interrupt_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
