/*
 * virtio-blk driven by a simulated driver on rings in a guest RAM buffer and
 * a fake transport, against a temporary image file; every test runs with
 * io_uring (when the kernel lets us) and with the forced thread pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/virtio_blk.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio/blk.h"
#include "virtio/blk_io.h"
#include "virtio/device.h"

#define MEM_SIZE	(8u << 20)
#define QSIZE		256	/* the driver's ring size unless a test sets another */
#define MAX_Q		4
/* Each queue's rings, room for 1024 entries: descriptors, avail, used. */
#define RING_BASE(q)	(0x10000ULL * ((q) + 1))
#define AVAIL_OFF	0x4000
#define USED_OFF	0x5000
#define RING_BYTES	0x8000
#define HEAP_BASE	0x100000ULL
#define IMG_SIZE	(1u << 20)	/* 2048 sectors */
#define STATUS_UNSET	0xee

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct opts {
	bool readonly, discard, no_image, direct;
	unsigned int queues;
	unsigned int queue_size;	/* the device's maximum; 0: its default */
	unsigned int ring;		/* the size the driver sets; 0: QSIZE */
	bool indirect;			/* the driver sends each chain as an indirect table */
	const char *serial;
	const char *dir;		/* of the image; NULL: /tmp */
	bool loop;			/* the image behind a loop block device */
};

struct tb {
	bool pool;
	struct virtio_device d;
	bool open;
	struct guest_mem mem;
	uint8_t *ram;
	char path[128];
	int fd;				/* the backend as the tests read it */
	char loop_dev[32];
	int loop_fd;
	uint64_t heap;
	unsigned int qsize;		/* the driver's ring size */
	bool indirect;
	uint16_t next_desc[MAX_Q], avail_idx[MAX_Q];
	unsigned int nr_queues;
	unsigned int notifies[MAX_Q];
	unsigned int broken;
};

static bool uring_works;
static const bool mode_uring = false, mode_pool = true;

static void fake_notify(struct virtio_device *d, unsigned int q)
{
	struct tb *t = d->transport;

	if (q < MAX_Q)
		t->notifies[q]++;
}

static void fake_broken(struct virtio_device *d)
{
	struct tb *t = d->transport;

	t->broken++;
}

static const struct virtio_transport_ops fake_tops = {
	.queue_notify = fake_notify,
	.broken = fake_broken,
};

static uint8_t *gp(struct tb *t, uint64_t gpa)
{
	return t->ram + gpa;
}

static uint64_t tb_alloc(struct tb *t, uint32_t len)
{
	uint64_t gpa = t->heap;

	t->heap = (t->heap + len + 511) & ~511ULL;
	assert_true(t->heap <= MEM_SIZE);
	return gpa;
}

static void queue_setup(struct tb *t, unsigned int q)
{
	uint64_t base = RING_BASE(q);

	memset(gp(t, base), 0, RING_BYTES);
	t->next_desc[q] = 0;
	t->avail_idx[q] = 0;
	assert_int_equal(virtq_init(&t->d.vqs[q], &t->mem, (uint16_t)t->qsize, base,
				    base + AVAIL_OFF, base + USED_OFF, false, t->indirect), 0);
}

static void tb_start(struct tb *t)
{
	pthread_mutex_lock(&t->d.lock);
	t->d.features = t->d.host_features | (1ULL << VIRTIO_F_VERSION_1) |
			(t->indirect ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0);
	for (unsigned int q = 0; q < t->nr_queues; q++)
		queue_setup(t, q);
	assert_int_equal(t->d.ops->start(&t->d), 0);
	t->d.started = true;
	pthread_mutex_unlock(&t->d.lock);
}

/* Create the image (IMG_SIZE bytes of 0x5a) and the device. */
/* Put the image behind a free loop device (root only); false if impossible. */
static bool loop_attach(struct tb *t)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int n;

	if (ctl < 0)
		return false;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return false;
	snprintf(t->loop_dev, sizeof(t->loop_dev), "/dev/loop%d", n);
	t->loop_fd = open(t->loop_dev, O_RDWR | O_CLOEXEC);
	if (t->loop_fd < 0)
		return false;
	if (ioctl(t->loop_fd, LOOP_SET_FD, t->fd) < 0) {
		close(t->loop_fd);
		t->loop_fd = -1;
		return false;
	}
	/* The tests read what the device sees: through the block device. */
	close(t->fd);
	t->fd = open(t->loop_dev, O_RDWR | O_CLOEXEC);
	assert_true(t->fd >= 0);
	return true;
}

static int tb_open(struct tb *t, const struct opts *o, char *err, size_t errlen)
{
	struct virtio_blk_params p = {
		.path = t->path,
		.readonly = o->readonly,
		.discard = o->discard,
		.direct = o->direct,
		.queues = o->queues ? o->queues : 1,
		.queue_size = o->queue_size,
		.serial = o->serial,
	};
	uint8_t *fill = malloc(IMG_SIZE);
	int ret;

	assert_non_null(fill);
	snprintf(t->path, sizeof(t->path), "%s/test_virtio_blk.XXXXXX", o->dir ? o->dir : "/tmp");
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
	memset(fill, 0x5a, IMG_SIZE);
	assert_int_equal(pwrite(t->fd, fill, IMG_SIZE, 0), IMG_SIZE);
	free(fill);
	if (o->no_image)
		unlink(t->path);
	if (o->loop) {
		if (!loop_attach(t))
			return -EPERM;
		p.path = t->loop_dev;
	}

	assert_int_equal(virtio_device_prepare(&t->d, "blk0"), 0);
	ret = virtio_blk_init(&t->d, &p, err, errlen);
	if (ret)
		return ret;
	t->open = true;
	t->nr_queues = p.queues;
	t->qsize = o->ring ? o->ring : QSIZE;
	t->indirect = o->indirect;
	t->d.mem = &t->mem;
	t->d.tops = &fake_tops;
	t->d.transport = t;
	t->d.vqs = calloc(p.queues, sizeof(struct virtq));
	assert_non_null(t->d.vqs);
	tb_start(t);
	return 0;
}

static void tb_open_ok(struct tb *t, const struct opts *o)
{
	char err[256] = "";

	if (tb_open(t, o, err, sizeof(err)))
		fail_msg("virtio_blk_init: %s", err);
}

static int setup(void **state)
{
	const bool *pool = *state;
	struct tb *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->pool = *pool;
	t->fd = -1;
	t->loop_fd = -1;
	if (t->pool)
		setenv("VMM_BLK_NO_URING", "1", 1);
	else
		unsetenv("VMM_BLK_NO_URING");
	assert_int_equal(posix_memalign((void **)&t->ram, 4096, MEM_SIZE), 0);
	memset(t->ram, 0, MEM_SIZE);
	t->mem.nr = 1;
	t->mem.regions[0].gpa = 0;
	t->mem.regions[0].size = MEM_SIZE;
	t->mem.regions[0].hva = t->ram;
	t->heap = HEAP_BASE;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tb *t = *state;

	if (t->open)
		virtio_device_release(&t->d);
	free(t->d.vqs);
	if (t->fd >= 0) {
		close(t->fd);
		unlink(t->path);
	}
	if (t->loop_fd >= 0) {
		ioctl(t->loop_fd, LOOP_CLR_FD, 0);
		close(t->loop_fd);
	}
	free(t->ram);
	free(t);
	unsetenv("VMM_BLK_NO_URING");
	return 0;
}

/* The simulated driver. */

/* Write b[n] as descriptors desc[first...] of a table of size entries (wrapping). */
static void put_descs(uint8_t *desc, unsigned int size, uint16_t first, const struct buf *b,
		      unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((first + i) % size);
		uint8_t *e = desc + 16 * idx;
		uint16_t flags = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		uint16_t next = (uint16_t)((idx + 1) % size);

		memcpy(e, &b[i].gpa, 8);
		memcpy(e + 8, &b[i].len, 4);
		memcpy(e + 12, &flags, 2);
		memcpy(e + 14, &next, 2);
	}
}

static uint16_t tb_chain(struct tb *t, unsigned int q, const struct buf *b, unsigned int n)
{
	uint8_t *desc = gp(t, RING_BASE(q));
	uint8_t *avail = gp(t, RING_BASE(q) + AVAIL_OFF);
	uint16_t head = t->next_desc[q];

	if (t->indirect) {
		/* One ring descriptor pointing at a table of n. */
		struct buf ind = { tb_alloc(t, 16 * n), 16 * n, false };
		uint16_t flags = VIRTQ_DESC_F_INDIRECT;

		put_descs(gp(t, ind.gpa), n, 0, b, n);
		put_descs(desc, t->qsize, head, &ind, 1);
		memcpy(desc + 16 * head + 12, &flags, 2);
		n = 1;
	} else {
		put_descs(desc, t->qsize, head, b, n);
	}
	t->next_desc[q] = (uint16_t)((head + n) % t->qsize);
	memcpy(avail + 4 + 2 * (t->avail_idx[q] % t->qsize), &head, 2);
	t->avail_idx[q]++;
	__atomic_store_n((uint16_t *)(avail + 2), t->avail_idx[q], __ATOMIC_RELEASE);
	return head;
}

static uint16_t used_idx(struct tb *t, unsigned int q)
{
	return __atomic_load_n((uint16_t *)gp(t, RING_BASE(q) + USED_OFF + 2), __ATOMIC_ACQUIRE);
}

static void used_elem(struct tb *t, unsigned int q, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint8_t *e = gp(t, RING_BASE(q) + USED_OFF + 4 + 8 * (i % t->qsize));

	memcpy(id, e, 4);
	memcpy(len, e + 4, 4);
}

static void tb_kick(struct tb *t, unsigned int q)
{
	pthread_mutex_lock(&t->d.lock);
	if (t->d.started)
		t->d.ops->kick(&t->d, q);
	pthread_mutex_unlock(&t->d.lock);
}

/* Run the device loop until queue q's used index reaches want; false on timeout. */
static bool tb_wait(struct tb *t, unsigned int q, uint16_t want)
{
	for (int i = 0; i < 500; i++) {
		if ((int16_t)(used_idx(t, q) - want) >= 0)
			return true;
		event_loop_run_once(&t->d.loop, 10);
	}
	return (int16_t)(used_idx(t, q) - want) >= 0;
}

/*
 * The same for many completions, which may come a few per loop round: until
 * ms milliseconds have passed rather than for a number of rounds.
 */
static bool tb_wait_ms(struct tb *t, unsigned int q, uint16_t want, unsigned int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if ((int16_t)(used_idx(t, q) - want) >= 0)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    (long)ms)
			return false;
		event_loop_run_once(&t->d.loop, 10);
	}
}

static uint64_t put_hdr(struct tb *t, uint32_t type, uint64_t sector)
{
	uint64_t gpa = tb_alloc(t, 16);
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(gp(t, gpa), &h, sizeof(h));
	return gpa;
}

static uint64_t put_status(struct tb *t)
{
	uint64_t gpa = tb_alloc(t, 1);

	*gp(t, gpa) = STATUS_UNSET;
	return gpa;
}

/* Send the chain b[n] whose last buffer is the status; its status byte. */
static uint8_t tb_send(struct tb *t, unsigned int q, const struct buf *b, unsigned int n,
		       uint32_t *used_len)
{
	uint16_t before = used_idx(t, q);
	uint16_t head = tb_chain(t, q, b, n);
	uint32_t id, len;

	tb_kick(t, q);
	assert_true(tb_wait(t, q, (uint16_t)(before + 1)));
	used_elem(t, q, before, &id, &len);
	assert_int_equal(id, head);
	if (used_len)
		*used_len = len;
	return *gp(t, b[n - 1].gpa);
}

/* A request with one data buffer (data_len 0: none). */
static uint8_t tb_req(struct tb *t, unsigned int q, uint32_t type, uint64_t sector,
		      uint64_t data, uint32_t data_len, bool data_write, uint32_t *used_len)
{
	struct buf b[3];
	unsigned int n = 0;

	b[n++] = (struct buf){ put_hdr(t, type, sector), 16, false };
	if (data_len)
		b[n++] = (struct buf){ data, data_len, data_write };
	b[n++] = (struct buf){ put_status(t), 1, true };
	return tb_send(t, q, b, n, used_len);
}

static uint8_t tb_dwz(struct tb *t, uint32_t type, uint64_t sector, uint32_t num,
		      uint32_t flags)
{
	uint64_t seg = tb_alloc(t, 16);
	struct virtio_blk_discard_write_zeroes s = {
		.sector = sector, .num_sectors = num, .flags = flags,
	};

	memcpy(gp(t, seg), &s, sizeof(s));
	return tb_req(t, 0, type, 0, seg, 16, false, NULL);
}

static void file_read(struct tb *t, void *buf, size_t len, off_t off)
{
	assert_int_equal(pread(t->fd, buf, len, off), (ssize_t)len);
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + i / 512);
}

/* The tests. */

static void test_init_features_config(void **state)
{
	struct tb *t = *state;
	struct opts o = { .discard = true, .queues = 2 };
	struct virtio_blk_config c;

	tb_open_ok(t, &o);
	assert_int_equal(t->d.id, 2);
	assert_int_equal(t->d.nr_queues, 2);
	assert_int_equal(t->d.queue_size_max, 256);
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_MQ));
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(t->d.host_features & (1ULL << VIRTIO_BLK_F_RO));
	assert_true(t->d.config_size >= offsetof(struct virtio_blk_config, unused1));
	memcpy(&c, t->d.config, offsetof(struct virtio_blk_config, unused1));
	assert_int_equal(c.capacity, IMG_SIZE / 512);
	assert_int_equal(c.blk_size, 512);
	assert_true(c.seg_max >= 1 && c.seg_max <= 256);
	assert_int_equal(c.num_queues, 2);
	assert_true(c.max_discard_sectors > 0);
	assert_true(c.max_discard_seg >= 1);
	assert_true(c.max_write_zeroes_sectors > 0);
	assert_true(c.max_write_zeroes_seg >= 1);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
}

static void test_init_readonly_features(void **state)
{
	struct tb *t = *state;
	struct opts o = { .readonly = true, .discard = true };

	tb_open_ok(t, &o);
	assert_true(t->d.host_features & (1ULL << VIRTIO_BLK_F_RO));
	assert_false(t->d.host_features & (1ULL << VIRTIO_BLK_F_MQ));
	assert_false(t->d.host_features & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_false(t->d.host_features & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
}

static void test_init_missing_file(void **state)
{
	struct tb *t = *state;
	struct opts o = { .no_image = true };
	char err[256] = "", want[200];
	int ret = tb_open(t, &o, err, sizeof(err));

	assert_int_equal(ret, -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", t->path);
	assert_string_equal(err, want);
	virtio_device_release(&t->d);
}

static void test_write_read_back(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint8_t want[8192], got[8192];
	uint64_t wbuf, rbuf;
	uint32_t len;

	tb_open_ok(t, &o);
	wbuf = tb_alloc(t, sizeof(want));
	rbuf = tb_alloc(t, sizeof(want));
	pattern(want, sizeof(want), 3);
	memcpy(gp(t, wbuf), want, sizeof(want));

	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, 16, wbuf, sizeof(want), false, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 1);
	file_read(t, got, sizeof(got), 16 * 512);
	assert_memory_equal(got, want, sizeof(want));
	/* Untouched around it. */
	file_read(t, got, 512, 15 * 512);
	assert_true(all_bytes(got, 512, 0x5a));
	file_read(t, got, 512, 32 * 512);
	assert_true(all_bytes(got, 512, 0x5a));

	memset(gp(t, rbuf), 0, sizeof(want));
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 16, rbuf, sizeof(want), true, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, sizeof(want) + 1);
	assert_memory_equal(gp(t, rbuf), want, sizeof(want));
	assert_true(t->notifies[0] >= 2);
}

/* Header and data in one buffer, data split over uneven buffers. */
static void test_any_layout_segments(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint8_t want[2048], got[2048];
	uint64_t w = tb_alloc(t, 16 + 1000), w2 = tb_alloc(t, 1048);
	uint64_t r1 = tb_alloc(t, 100), r2 = tb_alloc(t, 1948 + 1);
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = 100 };
	struct buf b[4];
	uint32_t len;

	tb_open_ok(t, &o);
	pattern(want, sizeof(want), 11);
	memcpy(gp(t, w), &h, 16);
	memcpy(gp(t, w) + 16, want, 1000);
	memcpy(gp(t, w2), want + 1000, 1048);
	b[0] = (struct buf){ w, 16 + 1000, false };
	b[1] = (struct buf){ w2, 1048, false };
	b[2] = (struct buf){ put_status(t), 1, true };
	assert_int_equal(tb_send(t, 0, b, 3, &len), VIRTIO_BLK_S_OK);
	file_read(t, got, sizeof(got), 100 * 512);
	assert_memory_equal(got, want, sizeof(want));

	/* Read with the status byte at the end of the last data buffer. */
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 100), 16, false };
	b[1] = (struct buf){ r1, 100, true };
	b[2] = (struct buf){ r2, 1948 + 1, true };
	*gp(t, r2 + 1948) = STATUS_UNSET;
	tb_chain(t, 0, b, 3);
	tb_kick(t, 0);
	assert_true(tb_wait(t, 0, 2));
	assert_int_equal(*gp(t, r2 + 1948), VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(t, r1), want, 100);
	assert_memory_equal(gp(t, r2), want + 100, 1948);
}

static void test_flush(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t wbuf = tb_alloc(t, 512);
	uint8_t got[512];
	uint32_t len;

	tb_open_ok(t, &o);
	memset(gp(t, wbuf), 0xa1, 512);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, 1, wbuf, 512, false, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 1);
	file_read(t, got, 512, 512);
	assert_true(all_bytes(got, 512, 0xa1));
}

/* Without FLUSH negotiated the device is writethrough; writes still land. */
static void test_writethrough(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t wbuf = tb_alloc(t, 4096);
	uint8_t got[4096];

	tb_open_ok(t, &o);
	pthread_mutex_lock(&t->d.lock);
	t->d.ops->reset(&t->d);
	t->d.features = (1ULL << VIRTIO_F_VERSION_1);
	assert_int_equal(t->d.ops->start(&t->d), 0);
	pthread_mutex_unlock(&t->d.lock);
	memset(gp(t, wbuf), 0x3c, 4096);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, 40, wbuf, 4096, false, NULL),
			 VIRTIO_BLK_S_OK);
	file_read(t, got, sizeof(got), 40 * 512);
	assert_true(all_bytes(got, sizeof(got), 0x3c));
}

static void test_get_id(void **state)
{
	struct tb *t = *state;
	struct opts o = { .serial = "disk-serial-1" };
	uint64_t id = tb_alloc(t, 32);
	uint8_t want[20] = "disk-serial-1";
	uint32_t len;

	tb_open_ok(t, &o);
	memset(gp(t, id), 0xff, 32);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_GET_ID, 0, id, 20, true, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 21);
	assert_memory_equal(gp(t, id), want, 20);
	assert_int_equal(*gp(t, id + 20), 0xff);
}

static void test_read_beyond_capacity(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 4096);
	const uint64_t cap = IMG_SIZE / 512;

	tb_open_ok(t, &o);
	memset(gp(t, buf), 0x11, 4096);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, cap, buf, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, cap - 4, buf, 4096, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, UINT64_MAX - 1, buf, 4096, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	/* Not a multiple of the sector size. */
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 100, true, NULL),
			 VIRTIO_BLK_S_IOERR);
	assert_true(all_bytes(gp(t, buf), 4096, 0x11));
	/* The last sector is fine. */
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, cap - 1, buf, 512, true, NULL),
			 VIRTIO_BLK_S_OK);
	assert_true(all_bytes(gp(t, buf), 512, 0x5a));
	assert_int_equal(t->broken, 0);
}

static void test_readonly_write(void **state)
{
	struct tb *t = *state;
	struct opts o = { .readonly = true };
	uint64_t buf = tb_alloc(t, 512);
	uint8_t got[512];

	tb_open_ok(t, &o);
	memset(gp(t, buf), 0x77, 512);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, 0, buf, 512, false, NULL),
			 VIRTIO_BLK_S_IOERR);
	file_read(t, got, 512, 0);
	assert_true(all_bytes(got, 512, 0x5a));
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true, NULL),
			 VIRTIO_BLK_S_OK);
	assert_true(all_bytes(gp(t, buf), 512, 0x5a));
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL),
			 VIRTIO_BLK_S_OK);
}

static void test_discard_write_zeroes(void **state)
{
	struct tb *t = *state;
	struct opts o = { .discard = true };
	static uint8_t got[64 * 512];

	tb_open_ok(t, &o);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 8, 16, 0), VIRTIO_BLK_S_OK);
	file_read(t, got, 32 * 512, 0);
	assert_true(all_bytes(got, 8 * 512, 0x5a));
	assert_true(all_bytes(got + 8 * 512, 16 * 512, 0));
	assert_true(all_bytes(got + 24 * 512, 8 * 512, 0x5a));

	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 100, 9,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	file_read(t, got, 11 * 512, 99 * 512);
	assert_true(all_bytes(got, 512, 0x5a));
	assert_true(all_bytes(got + 512, 9 * 512, 0));
	assert_true(all_bytes(got + 10 * 512, 512, 0x5a));

	/* Discard: fine, and the image keeps its size. */
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_DISCARD, 256, 64, 0), VIRTIO_BLK_S_OK);
	{
		struct stat st;

		assert_int_equal(fstat(t->fd, &st), 0);
		assert_int_equal(st.st_size, IMG_SIZE);
	}
	file_read(t, got, 512, 255 * 512);
	assert_true(all_bytes(got, 512, 0x5a));
	file_read(t, got, 512, 320 * 512);
	assert_true(all_bytes(got, 512, 0x5a));

	/* Bad ones. */
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_DISCARD, 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, IMG_SIZE / 512 - 4, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_DISCARD, UINT64_MAX, 8, 0), VIRTIO_BLK_S_IOERR);
	file_read(t, got, 8 * 512, IMG_SIZE - 8 * 512);
	assert_true(all_bytes(got, 8 * 512, 0x5a));
	assert_int_equal(t->broken, 0);
}

/* On tmpfs, which has no FALLOC_FL_ZERO_RANGE: zeroes are written instead. */
static void test_write_zeroes_fallback(void **state)
{
	struct tb *t = *state;
	struct opts o = { .discard = true, .dir = "/dev/shm" };
	static uint8_t got[40 * 512];
	struct statfs sf;

	if (statfs("/dev/shm", &sf) || sf.f_type != TMPFS_MAGIC)
		skip();
	tb_open_ok(t, &o);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 4, 32, 0), VIRTIO_BLK_S_OK);
	file_read(t, got, sizeof(got), 0);
	assert_true(all_bytes(got, 4 * 512, 0x5a));
	assert_true(all_bytes(got + 4 * 512, 32 * 512, 0));
	assert_true(all_bytes(got + 36 * 512, 4 * 512, 0x5a));
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 600, 200,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	file_read(t, got, 512, 599 * 512);
	assert_true(all_bytes(got, 512, 0x5a));
	file_read(t, got, 512, 600 * 512);
	assert_true(all_bytes(got, 512, 0));
	file_read(t, got, 512, 799 * 512);
	assert_true(all_bytes(got, 512, 0));
	file_read(t, got, 512, 800 * 512);
	assert_true(all_bytes(got, 512, 0x5a));
}

/* A block device backend (a loop device; root only, else skipped). */
static void test_block_device(void **state)
{
	struct tb *t = *state;
	struct opts o = { .discard = true, .loop = true };
	char err[256] = "";
	uint64_t w = tb_alloc(t, 8192), r = tb_alloc(t, 8192);
	static uint8_t got[16 * 512];
	struct virtio_blk_config c;

	if (tb_open(t, &o, err, sizeof(err)) == -EPERM && !t->open)
		skip();
	if (!t->open)
		fail_msg("virtio_blk_init: %s", err);
	memcpy(&c, t->d.config, offsetof(struct virtio_blk_config, unused1));
	assert_int_equal(c.capacity, IMG_SIZE / 512);
	pattern(gp(t, w), 8192, 9);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_OUT, 64, w, 8192, false, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 64, r, 8192, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(t, r), gp(t, w), 8192);
	file_read(t, got, 8192, 64 * 512);
	assert_memory_equal(got, gp(t, w), 8192);

	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 66, 4, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 72, 4,
				VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), VIRTIO_BLK_S_OK);
	file_read(t, got, 16 * 512, 64 * 512);
	assert_memory_equal(got, gp(t, w), 2 * 512);
	assert_true(all_bytes(got + 2 * 512, 4 * 512, 0));
	assert_memory_equal(got + 6 * 512, gp(t, w) + 6 * 512, 2 * 512);
	assert_true(all_bytes(got + 8 * 512, 4 * 512, 0));
	assert_memory_equal(got + 12 * 512, gp(t, w) + 12 * 512, 4 * 512);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_DISCARD, 128, 64, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 2047, r, 512, true, NULL),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 2048, r, 512, true, NULL),
			 VIRTIO_BLK_S_IOERR);
}

/* The backend fails (the image shrank under us): IOERR, the device goes on. */
static void test_backend_error(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 4096);
	uint32_t len;

	tb_open_ok(t, &o);
	assert_int_equal(ftruncate(t->fd, IMG_SIZE / 2), 0);
	memset(gp(t, buf), 0x11, 4096);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, IMG_SIZE / 512 - 8, buf, 4096, true, &len),
			 VIRTIO_BLK_S_IOERR);
	assert_true(len <= 4097);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 4096, true, &len),
			 VIRTIO_BLK_S_OK);
	assert_true(all_bytes(gp(t, buf), 4096, 0x5a));
	assert_int_equal(t->broken, 0);
}

static void test_discard_not_offered(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint8_t got[512];

	tb_open_ok(t, &o);
	assert_int_equal(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
	file_read(t, got, 512, 0);
	assert_true(all_bytes(got, 512, 0x5a));
}

static void test_unsupported_type(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 512);

	tb_open_ok(t, &o);
	assert_int_equal(tb_req(t, 0, 99, 0, buf, 512, true, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(tb_req(t, 0, 2 /* SCSI_CMD */, 0, buf, 512, true, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_SECURE_ERASE, 0, buf, 512, false, NULL),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(t->broken, 0);
}

static void test_short_header(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 512);
	struct buf b[3];

	tb_open_ok(t, &o);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 0), 8, false };
	b[1] = (struct buf){ buf, 512, true };
	b[2] = (struct buf){ put_status(t), 1, true };
	assert_int_equal(tb_send(t, 0, b, 3, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(t->broken, 0);
	assert_true(t->d.started);
}

/* A chain the device must not answer: it breaks, nothing is used or written. */
static void expect_breaks(struct tb *t, const struct buf *b, unsigned int n, uint64_t st)
{
	tb_chain(t, 0, b, n);
	tb_kick(t, 0);
	assert_int_equal(t->broken, 1);
	assert_false(t->d.started);
	assert_int_equal(used_idx(t, 0), 0);
	assert_int_equal(*gp(t, st), STATUS_UNSET);
}

static void test_header_writable_breaks(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t st = put_status(t);
	struct buf b[2];

	tb_open_ok(t, &o);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 0), 16, true };
	b[1] = (struct buf){ st, 1, true };
	expect_breaks(t, b, 2, st);
}

/* Write data the device may only write to: nothing is written, no OK. */
static void test_write_data_writable_breaks(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 512);
	uint64_t st = put_status(t);
	uint8_t disk[512];
	struct buf b[3];

	tb_open_ok(t, &o);
	memset(gp(t, buf), 0x42, 512);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_OUT, 3), 16, false };
	b[1] = (struct buf){ buf, 512, true };
	b[2] = (struct buf){ st, 1, true };
	expect_breaks(t, b, 3, st);
	file_read(t, disk, sizeof(disk), 3 * 512);
	assert_true(all_bytes(disk, sizeof(disk), 0x5a));	/* as the image was made */
}

/* Read data in buffers the device may only read: the read is not done. */
static void test_read_data_readable_breaks(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 512);
	uint64_t st = put_status(t);
	struct buf b[3];

	tb_open_ok(t, &o);
	memset(gp(t, buf), 0x42, 512);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct buf){ buf, 512, false };
	b[2] = (struct buf){ st, 1, true };
	expect_breaks(t, b, 3, st);
	assert_true(all_bytes(gp(t, buf), 512, 0x42));
}

static void test_no_status_byte_breaks(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t buf = tb_alloc(t, 512);
	uint64_t st = put_status(t);
	struct buf b[3];

	tb_open_ok(t, &o);
	memset(gp(t, buf), 0x42, 512);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_OUT, 0), 16, false };
	b[1] = (struct buf){ buf, 512, false };
	b[2] = (struct buf){ st, 1, false };	/* status not writable */
	expect_breaks(t, b, 3, st);
}

static void test_chain_outside_ram(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	uint64_t st = put_status(t);
	struct buf b[3];

	tb_open_ok(t, &o);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 0), 16, false };
	b[1] = (struct buf){ MEM_SIZE - 256, 4096, true };	/* runs past the end of RAM */
	b[2] = (struct buf){ st, 1, true };
	tb_chain(t, 0, b, 3);
	tb_kick(t, 0);
	assert_int_equal(t->broken, 1);
	assert_false(t->d.started);
	assert_int_equal(used_idx(t, 0), 0);
	assert_int_equal(*gp(t, st), STATUS_UNSET);
	/* Later kicks and loop rounds do nothing. */
	tb_kick(t, 0);
	event_loop_run_once(&t->d.loop, 10);
	assert_int_equal(t->broken, 1);
	assert_int_equal(used_idx(t, 0), 0);

	/* After a reset and a new start the device works again. */
	tb_start(t);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, NULL), VIRTIO_BLK_S_OK);
}

static void test_several_queues(void **state)
{
	struct tb *t = *state;
	struct opts o = { .queues = 3 };
	uint64_t w[3], r;
	uint8_t got[4096];

	tb_open_ok(t, &o);
	r = tb_alloc(t, 4096);
	for (unsigned int q = 0; q < 3; q++) {
		w[q] = tb_alloc(t, 4096);
		memset(gp(t, w[q]), 0x10 + q, 4096);
		assert_int_equal(tb_req(t, q, VIRTIO_BLK_T_OUT, 8 * (q + 1), w[q], 4096, false,
					NULL), VIRTIO_BLK_S_OK);
		assert_int_equal(used_idx(t, q), 1);
	}
	for (unsigned int q = 0; q < 3; q++) {
		file_read(t, got, 4096, 8 * (q + 1) * 512);
		assert_true(all_bytes(got, 4096, 0x10 + q));
		/* Read back on another queue. */
		assert_int_equal(tb_req(t, (q + 1) % 3, VIRTIO_BLK_T_IN, 8 * (q + 1), r, 4096, true,
					NULL), VIRTIO_BLK_S_OK);
		assert_true(all_bytes(gp(t, r), 4096, 0x10 + q));
	}
	for (unsigned int q = 0; q < 3; q++) {
		assert_int_equal(used_idx(t, q), 2);
		assert_true(t->notifies[q] >= 2);
	}
}

/*
 * More requests taken than the device has request slots (a driver that
 * reuses descriptors before they are used): the device stops taking chains
 * and resumes as completions come.
 */
static void test_many_in_flight(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	enum { N = 300 };
	uint64_t st[N], buf = tb_alloc(t, 2048 * N);
	uint8_t *want = malloc(2048 * N), *got = malloc(2048 * N);

	tb_open_ok(t, &o);
	assert_non_null(want);
	assert_non_null(got);
	pattern(want, 2048 * N, 5);
	memcpy(gp(t, buf), want, 2048 * N);
	for (unsigned int i = 0; i < N; i++) {
		struct buf b[3] = {
			{ put_hdr(t, VIRTIO_BLK_T_OUT, 4 * i), 16, false },
			{ buf + 2048 * i, 2048, false },
			{ st[i] = put_status(t), 1, true },
		};

		tb_chain(t, 0, b, 3);
		if (i % 50 == 49)
			tb_kick(t, 0);	/* its descriptors may be reused now */
	}
	tb_kick(t, 0);
	assert_true(tb_wait(t, 0, N));
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(*gp(t, st[i]), VIRTIO_BLK_S_OK);
	file_read(t, got, 2048 * N, 0);
	assert_memory_equal(got, want, 2048 * N);
	free(want);
	free(got);
}

/* queue-size absent: 256 offered, as before, and seg_max follows it. */
static void test_queue_size_default(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	struct virtio_blk_config c;

	tb_open_ok(t, &o);
	assert_int_equal(t->d.queue_size_max, 256);
	memcpy(&c, t->d.config, offsetof(struct virtio_blk_config, unused1));
	assert_int_equal(c.seg_max, 254);
}

/* What virtio_blk_init says of a queue size it cannot offer. */
static void expect_queue_size_refused(struct tb *t, unsigned int size)
{
	struct virtio_blk_params p = { .path = t->path, .queues = 1, .queue_size = size };
	struct virtio_device d;
	char err[256] = "", want[256];

	assert_int_equal(virtio_device_prepare(&d, "blk1"), 0);
	assert_int_equal(virtio_blk_init(&d, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: queue size %u: need a power of two from 16 to 1024",
		 t->path, size);
	assert_string_equal(err, want);
	assert_null(d.ops);
	virtio_device_release(&d);
}

static void test_queue_size_refused(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };

	tb_open_ok(t, &o);		/* for the image */
	expect_queue_size_refused(t, 1000);
	expect_queue_size_refused(t, 8);
	expect_queue_size_refused(t, 2048);
	expect_queue_size_refused(t, 65536);
}

/*
 * queue-size = 1024 and a driver that takes all of it: a full ring of 1024
 * requests in flight at once (one indirect descriptor each), all taken at
 * one kick, all completed; then 1024 more, the ring's indexes wrapping.
 */
static void test_queue_size_1024_full_ring(void **state)
{
	struct tb *t = *state;
	struct opts o = { .queue_size = 1024, .ring = 1024, .indirect = true };
	enum { N = 1024 };
	struct virtio_blk_config c;
	uint64_t wbuf, rbuf, st[N];
	uint8_t *want = malloc(512 * N), *got = malloc(512 * N);

	assert_non_null(want);
	assert_non_null(got);
	tb_open_ok(t, &o);
	assert_int_equal(t->d.queue_size_max, 1024);
	memcpy(&c, t->d.config, offsetof(struct virtio_blk_config, unused1));
	assert_int_equal(c.seg_max, 1022);
	wbuf = tb_alloc(t, 512 * N);
	rbuf = tb_alloc(t, 512 * N);
	pattern(want, 512 * N, 17);
	memcpy(gp(t, wbuf), want, 512 * N);

	for (unsigned int i = 0; i < N; i++) {
		struct buf b[3] = {
			{ put_hdr(t, VIRTIO_BLK_T_OUT, i), 16, false },
			{ wbuf + 512 * i, 512, false },
			{ st[i] = put_status(t), 1, true },
		};

		tb_chain(t, 0, b, 3);
	}
	tb_kick(t, 0);
	/* No completion is reaped inside the kick: every chain has a request slot. */
	assert_int_equal(t->d.vqs[0].last_avail, N);
	assert_int_equal(t->broken, 0);
	assert_true(tb_wait_ms(t, 0, N, 20000));
	assert_int_equal(used_idx(t, 0), N);
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(*gp(t, st[i]), VIRTIO_BLK_S_OK);
	file_read(t, got, 512 * N, 0);
	assert_memory_equal(got, want, 512 * N);

	/* The second lap reads it all back. */
	memset(gp(t, rbuf), 0, 512 * N);
	for (unsigned int i = 0; i < N; i++) {
		struct buf b[3] = {
			{ put_hdr(t, VIRTIO_BLK_T_IN, i), 16, false },
			{ rbuf + 512 * i, 512, true },
			{ st[i] = put_status(t), 1, true },
		};

		tb_chain(t, 0, b, 3);
	}
	tb_kick(t, 0);
	assert_int_equal(t->d.vqs[0].last_avail, (uint16_t)(2 * N));
	assert_true(tb_wait_ms(t, 0, (uint16_t)(2 * N), 20000));
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(*gp(t, st[i]), VIRTIO_BLK_S_OK);
	assert_memory_equal(gp(t, rbuf), want, 512 * N);
	assert_int_equal(t->broken, 0);
	free(want);
	free(got);
}

/*
 * seg_max at queue size 1024: a request of 1022 data buffers with its header
 * and status is one chain over the whole ring (no indirect descriptors).
 */
static void test_queue_size_1024_seg_max(void **state)
{
	struct tb *t = *state;
	struct opts o = { .queue_size = 1024, .ring = 1024 };
	enum { SEGS = 1022 };
	static struct buf b[SEGS + 2];
	uint64_t wbuf, rbuf;
	uint8_t *want = malloc(512 * SEGS), *got = malloc(512 * SEGS);
	uint32_t len;

	assert_non_null(want);
	assert_non_null(got);
	tb_open_ok(t, &o);
	wbuf = tb_alloc(t, 512 * SEGS);
	rbuf = tb_alloc(t, 512 * SEGS);
	pattern(want, 512 * SEGS, 23);
	memcpy(gp(t, wbuf), want, 512 * SEGS);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_OUT, 8), 16, false };
	for (unsigned int i = 0; i < SEGS; i++)
		b[1 + i] = (struct buf){ wbuf + 512 * i, 512, false };
	b[SEGS + 1] = (struct buf){ put_status(t), 1, true };
	assert_int_equal(tb_send(t, 0, b, SEGS + 2, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(len, 1);
	file_read(t, got, 512 * SEGS, 8 * 512);
	assert_memory_equal(got, want, 512 * SEGS);

	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 8), 16, false };
	for (unsigned int i = 0; i < SEGS; i++)
		b[1 + i] = (struct buf){ rbuf + 512 * i, 512, true };
	b[SEGS + 1] = (struct buf){ put_status(t), 1, true };
	assert_int_equal(tb_send(t, 0, b, SEGS + 2, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(len, 512 * SEGS + 1);
	assert_memory_equal(gp(t, rbuf), want, 512 * SEGS);
	assert_int_equal(t->broken, 0);
	free(want);
	free(got);
}

/* A device that offers 1024 to a driver that sets 16: the small ring works. */
static void test_queue_size_1024_small_ring(void **state)
{
	struct tb *t = *state;
	struct opts o = { .queue_size = 1024, .ring = 16 };
	uint64_t buf = tb_alloc(t, 4096);

	tb_open_ok(t, &o);
	assert_int_equal(t->d.queue_size_max, 1024);
	memset(gp(t, buf), 0x4e, 4096);
	/* Write and read back in turn; the ring wraps several times. */
	for (unsigned int i = 0; i < 40; i++)
		assert_int_equal(tb_req(t, 0, i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
					8 * (i / 2), buf, 4096, !!(i % 2), NULL),
				 VIRTIO_BLK_S_OK);
	assert_int_equal(used_idx(t, 0), 40);
	assert_true(all_bytes(gp(t, buf), 4096, 0x4e));
	assert_int_equal(t->broken, 0);
}

/*
 * Reset while requests are in flight (O_DIRECT reads and writes that go to
 * the disk): nothing touches guest RAM afterwards.
 */
static void test_reset_in_flight(void **state)
{
	struct tb *t = *state;
	struct opts o = { .direct = true };
	enum { N = 64 };
	uint64_t st[N], buf = tb_alloc(t, N * 16384);
	uint8_t *snap = malloc(MEM_SIZE);

	tb_open_ok(t, &o);
	assert_non_null(snap);
	memset(gp(t, buf), 0xcd, N * 16384);
	for (unsigned int i = 0; i < N; i++) {
		struct buf b[3] = {
			{ put_hdr(t, i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT, 32 * i), 16,
			  false },
			{ buf + 16384 * i, 16384, !!(i % 2) },
			{ st[i] = put_status(t), 1, true },
		};

		tb_chain(t, 0, b, 3);
	}
	tb_kick(t, 0);
	pthread_mutex_lock(&t->d.lock);
	t->d.ops->reset(&t->d);
	t->d.started = false;
	memcpy(snap, t->ram, MEM_SIZE);
	pthread_mutex_unlock(&t->d.lock);
	assert_int_equal(used_idx(t, 0), 0);
	for (unsigned int i = 0; i < 20; i++)
		event_loop_run_once(&t->d.loop, 5);
	usleep(20000);
	assert_memory_equal(snap, t->ram, MEM_SIZE);
	assert_int_equal(used_idx(t, 0), 0);
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(*gp(t, st[i]), STATUS_UNSET);
	free(snap);

	/* Started again, the device serves requests. */
	tb_start(t);
	assert_int_equal(tb_req(t, 0, VIRTIO_BLK_T_IN, 0, buf, 512, true, NULL), VIRTIO_BLK_S_OK);
}

/* The device breaks (and resets itself) on its own thread with I/O in flight. */
static void test_broken_with_io_in_flight(void **state)
{
	struct tb *t = *state;
	struct opts o = { 0 };
	enum { N = 32 };
	uint64_t buf = tb_alloc(t, N * 16384), st = put_status(t);
	uint8_t *snap = malloc(MEM_SIZE);
	struct buf bad[3];

	tb_open_ok(t, &o);
	assert_non_null(snap);
	for (unsigned int i = 0; i < N; i++) {
		struct buf b[3] = {
			{ put_hdr(t, VIRTIO_BLK_T_IN, 32 * i), 16, false },
			{ buf + 16384 * i, 16384, true },
			{ put_status(t), 1, true },
		};

		tb_chain(t, 0, b, 3);
	}
	bad[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 0), 16, false };
	bad[1] = (struct buf){ MEM_SIZE + 4096, 512, true };
	bad[2] = (struct buf){ st, 1, true };
	tb_chain(t, 0, bad, 3);
	tb_kick(t, 0);
	assert_int_equal(t->broken, 1);
	memcpy(snap, t->ram, MEM_SIZE);
	for (unsigned int i = 0; i < 10; i++)
		event_loop_run_once(&t->d.loop, 5);
	assert_memory_equal(snap, t->ram, MEM_SIZE);
	assert_int_equal(used_idx(t, 0), 0);
	free(snap);
}

/* The transport's way: the device thread reaps completions by itself. */

/* What the device thread wrote, read under the lock as a driver's barriers would. */
static void locked_read(struct tb *t, uint64_t gpa, void *dst, size_t len)
{
	pthread_mutex_lock(&t->d.lock);
	memcpy(dst, gp(t, gpa), len);
	pthread_mutex_unlock(&t->d.lock);
}

static bool locked_wait_used(struct tb *t, unsigned int q, uint16_t want)
{
	uint16_t idx = 0;

	for (int i = 0; i < 1000; i++) {
		locked_read(t, RING_BASE(q) + USED_OFF + 2, &idx, 2);
		if (idx == want)
			return true;
		usleep(2000);
	}
	return false;
}

static void test_device_thread(void **state)
{
	struct tb *t = *state;
	struct opts o = { .queues = 2 };
	uint64_t w = tb_alloc(t, 4096), r = tb_alloc(t, 4096);
	uint64_t st1 = put_status(t), st2 = put_status(t);
	static uint8_t got[4096];
	unsigned int notifies[2];
	struct buf b[3];
	uint8_t st;

	tb_open_ok(t, &o);
	assert_int_equal(virtio_device_start_thread(&t->d), 0);
	memset(gp(t, w), 0x99, 4096);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_OUT, 64), 16, false };
	b[1] = (struct buf){ w, 4096, false };
	b[2] = (struct buf){ st1, 1, true };
	tb_chain(t, 1, b, 3);
	tb_kick(t, 1);
	assert_true(locked_wait_used(t, 1, 1));
	locked_read(t, st1, &st, 1);
	assert_int_equal(st, VIRTIO_BLK_S_OK);
	b[0] = (struct buf){ put_hdr(t, VIRTIO_BLK_T_IN, 64), 16, false };
	b[1] = (struct buf){ r, 4096, true };
	b[2] = (struct buf){ st2, 1, true };
	tb_chain(t, 1, b, 3);
	tb_kick(t, 1);
	assert_true(locked_wait_used(t, 1, 2));
	locked_read(t, st2, &st, 1);
	assert_int_equal(st, VIRTIO_BLK_S_OK);
	locked_read(t, r, got, sizeof(got));
	assert_true(all_bytes(got, sizeof(got), 0x99));
	pthread_mutex_lock(&t->d.lock);
	notifies[0] = t->notifies[0];
	notifies[1] = t->notifies[1];
	pthread_mutex_unlock(&t->d.lock);
	assert_true(notifies[1] >= 2);
	assert_int_equal(notifies[0], 0);
}

/* The engine on its own: which one is used, and errors it reports. */

static int engine_fd(char *path)
{
	int fd;

	strcpy(path, "/tmp/test_blk_io.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, 4096), 0);
	return fd;
}

static struct blk_io_req *engine_last;

static void engine_done(struct blk_io_req *r, void *opaque)
{
	(*(unsigned int *)opaque)++;
	engine_last = r;
}

static void engine_run(struct blk_io *io, struct blk_io_req *r)
{
	unsigned int n = 0;

	blk_io_submit(io, 0, r);
	blk_io_commit(io, 0);
	for (int i = 0; i < 500 && !n; i++) {
		blk_io_reap(io, 0, engine_done, &n);
		if (!n)
			usleep(1000);
	}
	assert_int_equal(n, 1);
	assert_ptr_equal(engine_last, r);
}

static void test_engine(void **state)
{
	struct tb *t = *state;
	char path[64], err[128];
	int fd = engine_fd(path);
	struct blk_io *io = blk_io_create(fd, false, 1, 8, false, err, sizeof(err));
	uint8_t buf[1024];
	struct iovec iov[2];
	struct blk_io_req r = { 0 };

	assert_non_null(io);
	assert_int_equal(blk_io_uses_uring(io), !t->pool && uring_works);
	memset(buf, 0x61, sizeof(buf));
	iov[0] = (struct iovec){ buf, 512 };
	iov[1] = (struct iovec){ buf + 512, 512 };
	r = (struct blk_io_req){ .op = BLK_IO_WRITE, .offset = 3584, .len = 1024,
				 .iov = iov, .iovcnt = 2 };
	engine_run(io, &r);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.done, 1024);
	/* Reading past the end of the file: an error, not a hang or success. */
	iov[0] = (struct iovec){ buf, 512 };
	iov[1] = (struct iovec){ buf + 512, 512 };
	r = (struct blk_io_req){ .op = BLK_IO_READ, .offset = 4608, .len = 1024,
				 .iov = iov, .iovcnt = 2 };
	engine_run(io, &r);
	assert_int_equal(r.result, -EIO);
	r = (struct blk_io_req){ .op = BLK_IO_FLUSH };
	engine_run(io, &r);
	assert_int_equal(r.result, 0);
	blk_io_destroy(io);

	/* An unusable fd: errors come back as results. */
	io = blk_io_create(-1, false, 1, 8, false, err, sizeof(err));
	assert_non_null(io);
	r = (struct blk_io_req){ .op = BLK_IO_FLUSH };
	engine_run(io, &r);
	assert_int_equal(r.result, -EBADF);
	blk_io_destroy(io);
	close(fd);
}

static void test_engine_forced_pool(void **state)
{
	char path[64], err[128];
	int fd = engine_fd(path);
	struct blk_io *io;

	(void)state;
	io = blk_io_create(fd, false, 2, 8, true, err, sizeof(err));
	assert_non_null(io);
	assert_false(blk_io_uses_uring(io));
	assert_true(blk_io_eventfd(io, 0) >= 0);
	assert_true(blk_io_eventfd(io, 1) >= 0);
	assert_int_not_equal(blk_io_eventfd(io, 0), blk_io_eventfd(io, 1));
	blk_io_destroy(io);
	setenv("VMM_BLK_NO_URING", "1", 1);
	io = blk_io_create(fd, false, 1, 8, false, err, sizeof(err));
	assert_non_null(io);
	assert_false(blk_io_uses_uring(io));
	blk_io_destroy(io);
	close(fd);
}

#define BOTH(f) \
	{ #f, f, setup, teardown, (void *)&mode_uring }, \
	{ #f "_threads", f, setup, teardown, (void *)&mode_pool }

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_init_features_config),
		BOTH(test_init_readonly_features),
		BOTH(test_init_missing_file),
		BOTH(test_write_read_back),
		BOTH(test_any_layout_segments),
		BOTH(test_flush),
		BOTH(test_writethrough),
		BOTH(test_get_id),
		BOTH(test_read_beyond_capacity),
		BOTH(test_readonly_write),
		BOTH(test_discard_write_zeroes),
		BOTH(test_write_zeroes_fallback),
		BOTH(test_backend_error),
		BOTH(test_block_device),
		BOTH(test_discard_not_offered),
		BOTH(test_unsupported_type),
		BOTH(test_short_header),
		BOTH(test_no_status_byte_breaks),
		BOTH(test_header_writable_breaks),
		BOTH(test_write_data_writable_breaks),
		BOTH(test_read_data_readable_breaks),
		BOTH(test_chain_outside_ram),
		BOTH(test_several_queues),
		BOTH(test_many_in_flight),
		BOTH(test_queue_size_default),
		BOTH(test_queue_size_refused),
		BOTH(test_queue_size_1024_full_ring),
		BOTH(test_queue_size_1024_seg_max),
		BOTH(test_queue_size_1024_small_ring),
		BOTH(test_reset_in_flight),
		BOTH(test_broken_with_io_in_flight),
		BOTH(test_device_thread),
		BOTH(test_engine),
		BOTH(test_engine_forced_pool),
	};
	struct io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);

	uring_works = !ret;
	if (uring_works)
		io_uring_queue_exit(&ring);
	else
		printf("# io_uring unavailable here (%s): every test runs on I/O threads\n",
		       strerror(-ret));
	return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
