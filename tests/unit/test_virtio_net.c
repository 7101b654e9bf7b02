/*
 * virtio-net driven by a simulated driver in a guest RAM buffer, with a fake
 * transport: a socketpair standing in for the tap, and a real tap when the
 * machine lets us make one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <cmocka.h>

#include "virtio/net.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	(1024 * 1024)
#define QSIZE		16
#define HDR		12
#define ETH_TEST	0x88b5	/* IEEE local experimental ethertype */

/* Guest RAM map: rings for two queues, then a bump allocator for buffers. */
#define RING_GPA(q)	(RAM_GPA + (uint64_t)(q) * 0x1000)
#define DESC_GPA(q)	RING_GPA(q)
#define AVAIL_GPA(q)	(RING_GPA(q) + 16 * QSIZE)
#define USED_GPA(q)	(RING_GPA(q) + 0x800)
#define BUF_GPA		(RAM_GPA + 0x4000)
/* Rings of up to 1024 entries, when a test sets a larger size: the top 64 KiB. */
#define BIG_RING_GPA(q)	(RAM_GPA + RAM_SIZE - 0x10000 + (uint64_t)(q) * 0x8000)
#define BIG_AVAIL_OFF	0x4000
#define BIG_USED_OFF	0x5000
#define BIG_RING_BYTES	0x10000

struct sim {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtq vqs[2];
	struct virtio_device d;
	int peer;			/* the other end of the fake tap */
	int fd;				/* the device's end */
	uint16_t next_desc[2];
	uint16_t avail_idx[2];
	uint16_t used_seen[2];
	uint16_t kicked_idx[2];		/* avail index at the driver's last kick decision */
	bool event_idx;
	unsigned int qsize;		/* the driver's ring size: QSIZE unless a test sets more */
	uint64_t desc_gpa[2], avail_gpa[2], used_gpa[2];
	uint64_t buf_next, buf_end;
	unsigned int notified[2];
	unsigned int broken;
};

static struct sim *cur_sim;

static void fake_notify(struct virtio_device *d, unsigned int q)
{
	struct sim *s = d->transport;

	if (q < 2)
		s->notified[q]++;
}

static void fake_broken(struct virtio_device *d)
{
	struct sim *s = d->transport;

	s->broken++;
}

static const struct virtio_transport_ops fake_tops = {
	.queue_notify = fake_notify,
	.broken = fake_broken,
};

static void *gpa_ptr(struct sim *s, uint64_t gpa)
{
	return s->ram + (gpa - RAM_GPA);
}

static uint64_t buf_alloc(struct sim *s, size_t len)
{
	uint64_t gpa = s->buf_next;

	s->buf_next += (len + 63) & ~63ULL;
	assert_true(s->buf_next <= s->buf_end);
	return gpa;
}

struct sbuf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Make a chain of the buffers available on queue q; its head. */
static uint16_t add_chain(struct sim *s, unsigned int q, const struct sbuf *b, unsigned int n)
{
	uint8_t *desc = gpa_ptr(s, s->desc_gpa[q]);
	uint8_t *avail = gpa_ptr(s, s->avail_gpa[q]);
	uint16_t head = s->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % s->qsize);
		uint8_t *e = desc + 16 * idx;
		uint16_t flags = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		uint16_t next = (uint16_t)((idx + 1) % s->qsize);

		memcpy(e, &b[i].gpa, 8);
		memcpy(e + 8, &b[i].len, 4);
		memcpy(e + 12, &flags, 2);
		memcpy(e + 14, &next, 2);
	}
	s->next_desc[q] = (uint16_t)((head + n) % s->qsize);
	memcpy(avail + 4 + 2 * (s->avail_idx[q] % s->qsize), &head, 2);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->avail_idx[q]++;
	memcpy(avail + 2, &s->avail_idx[q], 2);
	return head;
}

/* One receive buffer of len bytes; its guest address. */
static uint64_t add_rx(struct sim *s, uint32_t len)
{
	struct sbuf b = { buf_alloc(s, len), len, true };

	add_chain(s, 0, &b, 1);
	return b.gpa;
}

/* The next used entry of queue q: false when there is none. */
static bool get_used(struct sim *s, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = gpa_ptr(s, s->used_gpa[q]);
	uint16_t idx;

	memcpy(&idx, used + 2, 2);
	if (idx == s->used_seen[q])
		return false;
	memcpy(id, used + 4 + 8 * (s->used_seen[q] % s->qsize), 4);
	memcpy(len, used + 8 + 8 * (s->used_seen[q] % s->qsize), 4);
	s->used_seen[q]++;
	return true;
}

static void kick(struct sim *s, unsigned int q)
{
	pthread_mutex_lock(&s->d.lock);
	if (s->d.started)
		s->d.ops->kick(&s->d, q);
	pthread_mutex_unlock(&s->d.lock);
}

/* Kick as a driver does: only when the device asked (flags or avail_event). */
static bool driver_kick(struct sim *s, unsigned int q)
{
	uint8_t *used = gpa_ptr(s, s->used_gpa[q]);
	uint16_t new_idx = s->avail_idx[q], old = s->kicked_idx[q], ev, flags;
	bool need;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->kicked_idx[q] = new_idx;
	if (s->event_idx) {
		memcpy(&ev, used + 4 + 8 * s->qsize, 2);
		need = (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
	} else {
		memcpy(&flags, used, 2);
		need = !(flags & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (need)
		kick(s, q);
	return need;
}

static void start(struct sim *s, uint64_t features)
{
	pthread_mutex_lock(&s->d.lock);
	s->d.features = features;
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(virtq_init(&s->vqs[q], &s->mem, (uint16_t)s->qsize,
					    s->desc_gpa[q], s->avail_gpa[q], s->used_gpa[q],
					    s->event_idx, false), 0);
		s->next_desc[q] = s->avail_idx[q] = s->used_seen[q] = 0;
		s->kicked_idx[q] = 0;
	}
	if (s->qsize > QSIZE)
		memset(gpa_ptr(s, BIG_RING_GPA(0)), 0, BIG_RING_BYTES);
	else
		memset(gpa_ptr(s, RAM_GPA), 0, 0x4000);
	assert_int_equal(s->d.ops->start(&s->d), 0);
	s->d.started = true;
	pthread_mutex_unlock(&s->d.lock);
}

static void reset(struct sim *s)
{
	pthread_mutex_lock(&s->d.lock);
	s->d.ops->reset(&s->d);
	s->d.started = false;
	for (unsigned int q = 0; q < 2; q++)
		virtq_reset(&s->vqs[q]);
	pthread_mutex_unlock(&s->d.lock);
}

/* Dispatch what the device thread would, until nothing comes for a while. */
static int run(struct sim *s)
{
	int total = 0, n;

	while ((n = event_loop_run_once(&s->d.loop, 50)) > 0)
		total += n;
	assert_true(n >= 0);
	return total;
}

static struct sim *sim_new(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(s->ram);
	memset(s->ram, 0, RAM_SIZE);
	s->mem.regions[0] = (struct guest_region){ RAM_GPA, RAM_SIZE, s->ram };
	s->mem.nr = 1;
	s->buf_next = BUF_GPA;
	s->buf_end = RAM_GPA + RAM_SIZE;
	s->qsize = QSIZE;
	for (unsigned int q = 0; q < 2; q++) {
		s->desc_gpa[q] = DESC_GPA(q);
		s->avail_gpa[q] = AVAIL_GPA(q);
		s->used_gpa[q] = USED_GPA(q);
	}
	s->fd = s->peer = -1;
	assert_int_equal(virtio_device_prepare(&s->d, "net0"), 0);
	return s;
}

/* Finish setting up d once the model filled it. */
static void sim_attach(struct sim *s)
{
	s->d.mem = &s->mem;
	s->d.vqs = s->vqs;
	s->d.tops = &fake_tops;
	s->d.transport = s;
}

/*
 * The driver sets rings of size entries (more than QSIZE: in the top 64 KiB
 * of RAM, which buffers then leave alone). Before start().
 */
static void sim_ring_size(struct sim *s, unsigned int size)
{
	assert_true(size <= 1024);
	s->qsize = size;
	if (size <= QSIZE)
		return;
	s->buf_end = BIG_RING_GPA(0);
	for (unsigned int q = 0; q < 2; q++) {
		s->desc_gpa[q] = BIG_RING_GPA(q);
		s->avail_gpa[q] = BIG_RING_GPA(q) + BIG_AVAIL_OFF;
		s->used_gpa[q] = BIG_RING_GPA(q) + BIG_USED_OFF;
	}
}

/* A device on a socketpair (the raw test mode) offering queue_size (0: its default). */
static struct sim *sim_raw_sized(unsigned int queue_size)
{
	struct virtio_net_params p = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
				       .raw_fd_for_tests = true, .queue_size = queue_size };
	struct sim *s = sim_new();
	char err[256] = "";
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	s->fd = sv[0];
	s->peer = sv[1];
	p.fd = s->fd;
	assert_int_equal(virtio_net_init(&s->d, &p, err, sizeof(err)), 0);
	sim_attach(s);
	cur_sim = s;
	return s;
}

static struct sim *sim_raw(void)
{
	return sim_raw_sized(0);
}

static void sim_free(struct sim *s)
{
	virtio_device_release(&s->d);
	if (s->fd >= 0)
		close(s->fd);
	if (s->peer >= 0)
		close(s->peer);
	free(s->ram);
	free(s);
	cur_sim = NULL;
}

static const uint64_t base_features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC |
				      1ULL << VIRTIO_NET_F_STATUS;
static const uint64_t mrg_features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC |
				     1ULL << VIRTIO_NET_F_STATUS | 1ULL << VIRTIO_NET_F_MRG_RXBUF;

/* A test packet as the tap carries it: header, then an Ethernet frame. */
static size_t make_packet(uint8_t *p, size_t frame_len, uint8_t seed)
{
	memset(p, 0, HDR);
	p[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	p[1] = VIRTIO_NET_HDR_GSO_NONE;
	p[6] = 34;			/* csum_start */
	p[8] = 16;			/* csum_offset */
	memset(p + HDR, 0xff, 6);	/* broadcast */
	memcpy(p + HDR + 6, "\x52\x54\x00\xab\xcd\xef", 6);
	p[HDR + 12] = ETH_TEST >> 8;
	p[HDR + 13] = ETH_TEST & 0xff;
	for (size_t i = 14; i < frame_len; i++)
		p[HDR + i] = (uint8_t)(seed + i * 7);
	return HDR + frame_len;
}

static void test_init_fills_device(void **state)
{
	struct sim *s = sim_raw();

	(void)state;
	assert_int_equal(s->d.id, VIRTIO_ID_NET);
	assert_int_equal(s->d.nr_queues, 2);
	assert_true(s->d.queue_size_max >= QSIZE);
	assert_true(s->d.host_features & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(s->d.host_features & 1ULL << VIRTIO_NET_F_STATUS);
	assert_true(s->d.host_features & 1ULL << VIRTIO_NET_F_MRG_RXBUF);
	assert_false(s->d.host_features & 1ULL << VIRTIO_NET_F_CTRL_VQ);
	/* A raw fd has no offloads to give. */
	assert_false(s->d.host_features & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	assert_true(s->d.config_size >= 8);
	assert_memory_equal(s->d.config, "\x52\x54\x00\x12\x34\x56", 6);
	assert_int_equal(s->d.config[6] | s->d.config[7] << 8, VIRTIO_NET_S_LINK_UP);
	sim_free(s);
}

static void test_tx_reaches_tap(void **state)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + 200], got[512];
	struct sbuf b[3];
	uint32_t id = 0, len = 0;
	uint16_t head;
	ssize_t r;

	(void)state;
	start(s, mrg_features);
	make_packet(pkt, 200, 1);
	/* Header alone, then the frame split in two. */
	b[0] = (struct sbuf){ buf_alloc(s, HDR), HDR, false };
	b[1] = (struct sbuf){ buf_alloc(s, 50), 50, false };
	b[2] = (struct sbuf){ buf_alloc(s, 150), 150, false };
	memcpy(gpa_ptr(s, b[0].gpa), pkt, HDR);
	memcpy(gpa_ptr(s, b[1].gpa), pkt + HDR, 50);
	memcpy(gpa_ptr(s, b[2].gpa), pkt + HDR + 50, 150);
	head = add_chain(s, 1, b, 3);
	kick(s, 1);

	r = recv(s->peer, got, sizeof(got), MSG_DONTWAIT);
	assert_int_equal(r, sizeof(pkt));
	assert_memory_equal(got, pkt, sizeof(pkt));
	assert_true(get_used(s, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_false(get_used(s, 1, &id, &len));
	assert_int_equal(s->notified[1], 1);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

#define BLK_FRAME	1000

static void test_tx_blocked_resumes(void **state)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + BLK_FRAME], got[2048];
	unsigned int used = 0, recvd = 0;
	struct virtio_net_stats st;
	uint32_t id = 0, len = 0;
	int sndbuf = 1;		/* the kernel rounds it up to its minimum */

	(void)state;
	assert_int_equal(setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	start(s, mrg_features);
	for (unsigned int i = 0; i < QSIZE; i++) {
		struct sbuf b = { buf_alloc(s, sizeof(pkt)), sizeof(pkt), false };

		make_packet(pkt, BLK_FRAME, (uint8_t)i);
		memcpy(gpa_ptr(s, b.gpa), pkt, sizeof(pkt));
		add_chain(s, 1, &b, 1);
	}
	kick(s, 1);
	while (get_used(s, 1, &id, &len))
		used++;
	assert_true(used > 0);
	assert_true(used < QSIZE);	/* the socket filled up */
	/* Drain the peer in order; the device resumes on EPOLLOUT. */
	for (;;) {
		ssize_t r = recv(s->peer, got, sizeof(got), MSG_DONTWAIT);

		if (r < 0) {
			if (!run(s))
				break;
			continue;
		}
		make_packet(pkt, BLK_FRAME, (uint8_t)recvd);
		assert_int_equal(r, sizeof(pkt));
		assert_memory_equal(got, pkt, sizeof(pkt));
		recvd++;
	}
	while (get_used(s, 1, &id, &len))
		used++;
	assert_int_equal(recvd, QSIZE);
	assert_int_equal(used, QSIZE);
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.tx_packets, QSIZE);
	assert_int_equal(st.tx_dropped, 0);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_rx_mergeable_spans_buffers(void **state)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + 150], got[HDR + 150];
	uint64_t gpa[3];
	uint32_t id = 0, len = 0, lens[3];
	uint16_t nb;

	(void)state;
	start(s, mrg_features);
	for (int i = 0; i < 3; i++)
		gpa[i] = add_rx(s, 64);
	make_packet(pkt, 150, 9);
	assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	assert_true(run(s) > 0);

	for (int i = 0; i < 3; i++) {
		assert_true(get_used(s, 0, &id, &len));
		assert_int_equal(id, i);	/* one-descriptor chains: head i */
		lens[i] = len;
	}
	assert_false(get_used(s, 0, &id, &len));
	assert_int_equal(lens[0], 64);
	assert_int_equal(lens[1], 64);
	assert_int_equal(lens[2], sizeof(pkt) - 128);
	for (int i = 0; i < 3; i++)
		memcpy(got + 64 * i, gpa_ptr(s, gpa[i]), lens[i]);
	memcpy(&nb, got + 10, 2);
	assert_int_equal(nb, 3);
	/* All but num_buffers is what the tap gave. */
	assert_memory_equal(got, pkt, 10);
	assert_memory_equal(got + HDR, pkt + HDR, 150);
	assert_true(s->notified[0] >= 1);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_rx_without_mrg_needs_big_buffer(void **state)
{
	struct sim *s = sim_raw();
	uint8_t big[HDR + 200], small[HDR + 60];
	struct virtio_net_stats st;
	uint32_t id = 0, len = 0;
	uint64_t gpa;
	uint16_t nb;

	(void)state;
	start(s, base_features);
	gpa = add_rx(s, 100);
	make_packet(big, 200, 3);
	make_packet(small, 60, 4);
	assert_int_equal(send(s->peer, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(send(s->peer, small, sizeof(small), 0), (ssize_t)sizeof(small));
	run(s);

	/* The big one is dropped, the buffer stays for the small one. */
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, sizeof(small));
	assert_false(get_used(s, 0, &id, &len));
	memcpy(&nb, gpa_ptr(s, gpa) + 10, 2);
	assert_int_equal(nb, 1);
	assert_memory_equal(gpa_ptr(s, gpa) + HDR, small + HDR, 60);
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.rx_dropped, 1);
	assert_int_equal(st.rx_packets, 1);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct sim *s = sim_raw();
	uint8_t p1[HDR + 80], p2[HDR + 90];
	struct virtio_net_stats st;
	uint32_t id = 0, len = 0;
	uint64_t g1, g2;

	(void)state;
	start(s, mrg_features);
	make_packet(p1, 80, 1);
	make_packet(p2, 90, 2);
	assert_int_equal(send(s->peer, p1, sizeof(p1), 0), (ssize_t)sizeof(p1));
	run(s);
	assert_false(get_used(s, 0, &id, &len));
	/* Paused: a second packet wakes nothing while the guest has no buffer. */
	assert_int_equal(send(s->peer, p2, sizeof(p2), 0), (ssize_t)sizeof(p2));
	assert_int_equal(event_loop_run_once(&s->d.loop, 50), 0);

	g1 = add_rx(s, 256);
	run(s);
	assert_false(get_used(s, 0, &id, &len));	/* no kick yet */
	kick(s, 0);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(len, sizeof(p1));
	assert_memory_equal(gpa_ptr(s, g1) + HDR, p1 + HDR, 80);
	assert_false(get_used(s, 0, &id, &len));

	g2 = add_rx(s, 256);
	kick(s, 0);
	run(s);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(len, sizeof(p2));
	assert_memory_equal(gpa_ptr(s, g2) + HDR, p2 + HDR, 90);
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.rx_packets, 2);
	assert_int_equal(st.rx_dropped, 0);
	sim_free(s);
}

/* Half a packet in guest buffers when they run out: the rest waits. */
static void test_rx_mergeable_partial_then_kick(void **state)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + 300], got[HDR + 300];
	uint64_t g0, g1;
	uint32_t id = 0, len = 0;
	uint16_t nb;

	(void)state;
	start(s, mrg_features);
	g0 = add_rx(s, 200);
	make_packet(pkt, 300, 5);
	assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	run(s);
	assert_false(get_used(s, 0, &id, &len));	/* nothing half-published */
	g1 = add_rx(s, 200);
	kick(s, 0);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(len, 200);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(len, sizeof(pkt) - 200);
	memcpy(got, gpa_ptr(s, g0), 200);
	memcpy(got + 200, gpa_ptr(s, g1), sizeof(pkt) - 200);
	memcpy(&nb, got + 10, 2);
	assert_int_equal(nb, 2);
	assert_memory_equal(got + HDR, pkt + HDR, 300);
	sim_free(s);
}

static void test_reset_drops_pending(void **state)
{
	struct sim *s = sim_raw();
	uint8_t p1[HDR + 70], p2[HDR + 75];
	uint32_t id = 0, len = 0;

	(void)state;
	start(s, mrg_features);
	make_packet(p1, 70, 1);
	make_packet(p2, 75, 2);
	assert_int_equal(send(s->peer, p1, sizeof(p1), 0), (ssize_t)sizeof(p1));
	run(s);
	reset(s);
	assert_int_equal(event_loop_run_once(&s->d.loop, 20), 0);
	start(s, mrg_features);
	add_rx(s, 256);
	add_rx(s, 256);
	assert_int_equal(send(s->peer, p2, sizeof(p2), 0), (ssize_t)sizeof(p2));
	kick(s, 0);
	run(s);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(len, sizeof(p2));
	assert_false(get_used(s, 0, &id, &len));
	sim_free(s);
}

static void test_tx_too_long_dropped(void **state)
{
	struct sim *s = sim_raw();
	struct virtio_net_stats st;
	size_t big = HDR + 70000;
	struct sbuf b = { 0, (uint32_t)big, false };
	uint8_t got[16];
	uint32_t id = 0, len = 0;

	(void)state;
	start(s, mrg_features);
	b.gpa = buf_alloc(s, big);
	add_chain(s, 1, &b, 1);
	kick(s, 1);
	assert_true(get_used(s, 1, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(recv(s->peer, got, sizeof(got), MSG_DONTWAIT), -1);
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.tx_dropped, 1);
	assert_int_equal(s->broken, 0);
	assert_true(s->d.started);
	sim_free(s);
}

static void broken_tx_chain(const struct sbuf *b, unsigned int n)
{
	struct sim *s = sim_raw();
	uint8_t got[16];
	uint32_t id = 0, len = 0;

	start(s, mrg_features);
	add_chain(s, 1, b, n);
	kick(s, 1);
	assert_int_equal(s->broken, 1);
	assert_false(s->d.started);
	assert_false(get_used(s, 1, &id, &len));
	assert_int_equal(recv(s->peer, got, sizeof(got), MSG_DONTWAIT), -1);
	/* Later kicks do nothing. */
	kick(s, 1);
	assert_int_equal(s->broken, 1);
	sim_free(s);
}

static void test_tx_malformed_breaks(void **state)
{
	const uint64_t g = BUF_GPA + 0x10000;
	const struct sbuf with_in[2] = { { g, 64, false }, { g + 64, 64, true } };
	const struct sbuf short_hdr[1] = { { g, 8, false } };
	const struct sbuf outside[2] = { { g, HDR, false }, { RAM_GPA + RAM_SIZE - 8, 64, false } };

	(void)state;
	broken_tx_chain(with_in, 2);
	broken_tx_chain(short_hdr, 1);
	broken_tx_chain(outside, 2);
}

static void test_rx_malformed_breaks(void **state)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + 64];
	struct sbuf b = { BUF_GPA, 128, false };	/* driver-readable */
	uint32_t id = 0, len = 0;

	(void)state;
	start(s, mrg_features);
	add_chain(s, 0, &b, 1);
	make_packet(pkt, 64, 0);
	assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	run(s);
	assert_int_equal(s->broken, 1);
	assert_false(s->d.started);
	assert_false(get_used(s, 0, &id, &len));
	sim_free(s);

	/* First merged buffer shorter than the header. */
	s = sim_raw();
	start(s, mrg_features);
	add_rx(s, 8);
	assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	run(s);
	assert_int_equal(s->broken, 1);
	assert_false(get_used(s, 0, &id, &len));
	sim_free(s);
}

/*
 * A driver that kicks only when asked to (both suppression schemes) still
 * gets every packet through: the device re-arms notifications before it
 * sleeps on an empty queue.
 */
static void notify_suppression(bool event_idx)
{
	struct sim *s = sim_raw();
	uint8_t pkt[HDR + 64], got[256];
	uint32_t id = 0, len = 0;
	unsigned int rx_used = 0, tx_sent = 0;

	s->event_idx = event_idx;
	start(s, mrg_features | (event_idx ? 1ULL << VIRTIO_F_EVENT_IDX : 0));
	/* Receive: three buffers, five packets; the last two wait for buffers. */
	for (int i = 0; i < 3; i++)
		add_rx(s, 256);
	driver_kick(s, 0);
	for (int i = 0; i < 5; i++) {
		make_packet(pkt, 64, (uint8_t)i);
		assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	}
	run(s);
	while (get_used(s, 0, &id, &len))
		rx_used++;
	assert_int_equal(rx_used, 3);
	for (int i = 0; i < 2; i++) {
		add_rx(s, 256);
		assert_true(driver_kick(s, 0));
		run(s);
	}
	while (get_used(s, 0, &id, &len))
		rx_used++;
	assert_int_equal(rx_used, 5);

	/* Transmit: one chain at a time, each kicked only if asked. */
	for (int i = 0; i < 2 * QSIZE; i++) {
		struct sbuf b = { buf_alloc(s, sizeof(pkt)), sizeof(pkt), false };

		make_packet(pkt, 64, (uint8_t)i);
		memcpy(gpa_ptr(s, b.gpa), pkt, sizeof(pkt));
		add_chain(s, 1, &b, 1);
		driver_kick(s, 1);
		while (get_used(s, 1, &id, &len))
			;
		while (recv(s->peer, got, sizeof(got), MSG_DONTWAIT) > 0)
			tx_sent++;
	}
	assert_int_equal(tx_sent, 2 * QSIZE);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_notify_flags(void **state)
{
	(void)state;
	notify_suppression(false);
}

static void test_notify_event_idx(void **state)
{
	(void)state;
	notify_suppression(true);
}

/* A tap that goes away is reported once, not in a loop, and TX only drops. */
static void test_hangup(void **state)
{
	struct sim *s = sim_raw();
	struct virtio_net_stats st;
	uint8_t pkt[HDR + 60];
	struct sbuf b;
	uint32_t id = 0, len = 0;

	(void)state;
	start(s, mrg_features);
	close(s->peer);
	s->peer = -1;
	assert_true(event_loop_run_once(&s->d.loop, 50) > 0);
	assert_int_equal(event_loop_run_once(&s->d.loop, 50), 0);
	b = (struct sbuf){ buf_alloc(s, sizeof(pkt)), sizeof(pkt), false };
	make_packet(pkt, 60, 0);
	memcpy(gpa_ptr(s, b.gpa), pkt, sizeof(pkt));
	add_chain(s, 1, &b, 1);
	kick(s, 1);
	assert_true(get_used(s, 1, &id, &len));
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.tx_dropped, 1);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_init_errors(void **state)
{
	struct virtio_net_params p = { 0 };
	struct virtio_device d;
	char err[256];
	int pfd[2];

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(virtio_device_prepare(&d, "net0"), 0);
	p.fd = pfd[0];
	err[0] = 0;
	assert_true(virtio_net_init(&d, &p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a tap"));
	assert_int_equal(strncmp(err, "tap fd ", 7), 0);
	assert_null(d.ops);

	p.fd = -1;
	p.tap = "a-name-much-too-long-for-linux";
	err[0] = 0;
	assert_true(virtio_net_init(&d, &p, err, sizeof(err)) < 0);
	assert_int_equal(strncmp(err, "tap a-name-much-too-long-for-linux: ", 36), 0);

	/* vhost = on without the device: the error says how to get it. */
	p.tap = NULL;
	p.fd = pfd[0];
	p.raw_fd_for_tests = true;
	p.vhost = true;
	p.vhost_path = "/nonexistent/vhost-net";
	err[0] = 0;
	assert_int_equal(virtio_net_init(&d, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "modprobe vhost_net"));
	assert_null(d.ops);
	virtio_device_release(&d);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * fd = N: a tap the caller opened (IFF_TAP, IFF_NO_PI, IFF_VNET_HDR), as a
 * management program hands one over. The device takes it as it is: made
 * non-blocking, its offloads probed; a tap opened without IFF_VNET_HDR, or
 * a tun, is refused with the flag that is missing.
 */
static int open_tap(const char *name, short flags)
{
	struct ifreq ifr = { .ifr_flags = flags };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_real_tap_fd(void **state)
{
	struct virtio_net_params p = { .tap = NULL, .mac = { 0x52, 0x54, 0, 1, 2, 4 } };
	struct virtio_device d;
	char err[256] = "", name[IFNAMSIZ];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "vmmf%d", (int)getpid() % 100000);
	fd = open_tap(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	if (fd < 0)
		skip();
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(virtio_device_prepare(&d, "net0"), 0);
	p.fd = fd;
	if (virtio_net_init(&d, &p, err, sizeof(err)))
		fail_msg("tap fd %d (%s): %s", fd, name, err);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(d.host_features & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(d.host_features & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	virtio_device_release(&d);
	close(fd);

	fd = open_tap(name, IFF_TAP | IFF_NO_PI);
	assert_true(fd >= 0);
	assert_int_equal(virtio_device_prepare(&d, "net0"), 0);
	p.fd = fd;
	assert_true(virtio_net_init(&d, &p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "without IFF_VNET_HDR"));
	virtio_device_release(&d);
	close(fd);

	fd = open_tap(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
	assert_true(fd >= 0);
	assert_int_equal(virtio_device_prepare(&d, "net0"), 0);
	p.fd = fd;
	assert_true(virtio_net_init(&d, &p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "is a tun, not a tap"));
	virtio_device_release(&d);
	close(fd);
}

/* queue-size absent: 256 offered, as before. */
static void test_queue_size_default(void **state)
{
	struct sim *s = sim_raw();

	(void)state;
	assert_int_equal(s->d.queue_size_max, 256);
	sim_free(s);
}

static void expect_queue_size_refused(const char *tap, int fd, unsigned int size)
{
	struct virtio_net_params p = { .tap = tap, .fd = fd, .raw_fd_for_tests = !tap,
				       .queue_size = size };
	struct virtio_device d;
	char err[256] = "", want[256];

	if (tap)
		snprintf(want, sizeof(want),
			 "tap %s: queue size %u: need a power of two from 64 to 1024", tap, size);
	else
		snprintf(want, sizeof(want),
			 "tap fd %d: queue size %u: need a power of two from 64 to 1024", fd, size);
	assert_int_equal(virtio_device_prepare(&d, "net1"), 0);
	assert_int_equal(virtio_net_init(&d, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	assert_null(d.ops);
	virtio_device_release(&d);
}

static void test_queue_size_refused(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	expect_queue_size_refused(NULL, sv[0], 32);	/* too few for a GSO packet */
	expect_queue_size_refused(NULL, sv[0], 16);
	expect_queue_size_refused(NULL, sv[0], 1000);
	expect_queue_size_refused(NULL, sv[0], 2048);
	expect_queue_size_refused("tap0", -1, 100);	/* before the tap is touched */
	close(sv[0]);
	close(sv[1]);
}

/*
 * queue-size = 1024 and a driver that sets rings of 1024: one packet spread
 * over 1000 merged receive buffers (more than a ring of 256 could hold), the
 * rest of the ring for a second, the ring's indexes wrapping for a third;
 * then 1024 transmit chains made available at once all reach the tap.
 */
static void test_queue_size_1024(void **state)
{
	enum { N = 1024, BUF = 64, SPAN = 1000 };
	struct sim *s = sim_raw_sized(N);
	size_t big = BUF * SPAN, rest = BUF * (N - SPAN);
	uint8_t *pkt = malloc(big), *got = malloc(big), small[HDR + 60], buf[256];
	unsigned int used = 0, recvd = 0;
	struct virtio_net_stats st;
	uint32_t id = 0, len = 0;
	uint64_t gpa[N], g;
	uint16_t nb;

	(void)state;
	assert_non_null(pkt);
	assert_non_null(got);
	assert_int_equal(s->d.queue_size_max, N);
	sim_ring_size(s, N);
	start(s, mrg_features);
	for (unsigned int i = 0; i < N; i++)
		gpa[i] = add_rx(s, BUF);

	make_packet(pkt, big - HDR, 41);
	assert_int_equal(send(s->peer, pkt, big, 0), (ssize_t)big);
	assert_true(run(s) > 0);
	for (unsigned int i = 0; i < SPAN; i++) {
		assert_true(get_used(s, 0, &id, &len));
		assert_int_equal(id, i);
		assert_int_equal(len, BUF);
		memcpy(got + BUF * i, gpa_ptr(s, gpa[i]), BUF);
	}
	assert_false(get_used(s, 0, &id, &len));
	memcpy(&nb, got + 10, 2);
	assert_int_equal(nb, SPAN);
	assert_memory_equal(got, pkt, 10);
	assert_memory_equal(got + HDR, pkt + HDR, big - HDR);

	/* The last 24 buffers, exactly. */
	make_packet(pkt, rest - HDR, 42);
	assert_int_equal(send(s->peer, pkt, rest, 0), (ssize_t)rest);
	run(s);
	for (unsigned int i = SPAN; i < N; i++) {
		assert_true(get_used(s, 0, &id, &len));
		assert_int_equal(id, i);
		memcpy(got + BUF * (i - SPAN), gpa_ptr(s, gpa[i]), len);
	}
	assert_false(get_used(s, 0, &id, &len));
	memcpy(&nb, got + 10, 2);
	assert_int_equal(nb, N - SPAN);
	assert_memory_equal(got + HDR, pkt + HDR, rest - HDR);

	/* The ring is used up: the next packet waits for a buffer at descriptor 0 again. */
	make_packet(small, 60, 43);
	assert_int_equal(send(s->peer, small, sizeof(small), 0), (ssize_t)sizeof(small));
	run(s);
	assert_false(get_used(s, 0, &id, &len));
	g = add_rx(s, 256);
	kick(s, 0);
	run(s);
	assert_true(get_used(s, 0, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, sizeof(small));
	assert_memory_equal(gpa_ptr(s, g) + HDR, small + HDR, 60);

	/* Transmit: a full ring at one kick, drained as the socket takes it. */
	for (unsigned int i = 0; i < N; i++) {
		struct sbuf b = { buf_alloc(s, sizeof(small)), sizeof(small), false };

		make_packet(small, 60, (uint8_t)i);
		memcpy(gpa_ptr(s, b.gpa), small, sizeof(small));
		add_chain(s, 1, &b, 1);
	}
	kick(s, 1);
	for (;;) {
		ssize_t r = recv(s->peer, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0) {
			if (!run(s))
				break;
			continue;
		}
		make_packet(small, 60, (uint8_t)recvd);
		assert_int_equal(r, sizeof(small));
		assert_memory_equal(buf, small, sizeof(small));
		recvd++;
	}
	while (get_used(s, 1, &id, &len))
		used++;
	assert_int_equal(recvd, N);
	assert_int_equal(used, N);
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.rx_packets, 3);
	assert_int_equal(st.rx_dropped, 0);
	assert_int_equal(st.tx_packets, N);
	assert_int_equal(st.tx_dropped, 0);
	assert_int_equal(s->broken, 0);
	free(pkt);
	free(got);
	sim_free(s);
}

/* A real tap, when this machine lets us make one. */

static int ifflags(const char *name, short set)
{
	struct ifreq ifr = { 0 };
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (sk < 0)
		return -1;
	strcpy(ifr.ifr_name, name);
	if (!ioctl(sk, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= set;
		ret = ioctl(sk, SIOCSIFFLAGS, &ifr);
	}
	close(sk);
	return ret;
}

static void test_real_tap(void **state)
{
	struct virtio_net_params p = { .mac = { 0x52, 0x54, 0, 1, 2, 3 } };
	struct sockaddr_ll sll = { 0 };
	uint8_t pkt[HDR + 100], frame[100], got[2048];
	char err[256] = "", name[IFNAMSIZ], path[128];
	bool seen = false;
	struct sim *s;
	uint32_t id = 0, len = 0;
	uint64_t feats;
	int fd, pk;
	FILE *f;

	(void)state;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		skip();
	close(fd);
	snprintf(name, sizeof(name), "vmmt%d", (int)getpid() % 100000);
	p.tap = name;
	s = sim_new();
	if (virtio_net_init(&s->d, &p, err, sizeof(err))) {
		print_message("no tap here: %s\n", err);
		sim_free(s);
		skip();
	}
	sim_attach(s);
	feats = s->d.host_features;
	assert_true(feats & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(feats & 1ULL << VIRTIO_NET_F_CSUM);
	/* Every tap since Linux 2.6.27 takes checksum offload. */
	assert_true(feats & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	start(s, mrg_features | (feats & (1ULL << VIRTIO_NET_F_GUEST_CSUM |
					  1ULL << VIRTIO_NET_F_GUEST_TSO4 |
					  1ULL << VIRTIO_NET_F_CSUM)));

	/* Keep IPv6 chatter off the link; the test frames are picked out anyway. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	pk = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));
	if (pk < 0 || ifflags(name, IFF_UP)) {
		print_message("no packet socket or cannot set %s up: %m\n", name);
		if (pk >= 0)
			close(pk);
		sim_free(s);
		skip();
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_TEST);
	sll.sll_ifindex = (int)if_nametoindex(name);
	assert_int_equal(bind(pk, (struct sockaddr *)&sll, sizeof(sll)), 0);

	/* Guest to host: the kernel sees the frame arrive on the tap. */
	make_packet(pkt, 100, 11);
	memset(pkt, 0, HDR);		/* no offload asked */
	{
		struct sbuf b = { buf_alloc(s, sizeof(pkt)), sizeof(pkt), false };

		memcpy(gpa_ptr(s, b.gpa), pkt, sizeof(pkt));
		add_chain(s, 1, &b, 1);
	}
	kick(s, 1);
	assert_true(get_used(s, 1, &id, &len));
	for (int tries = 0; tries < 50 && !seen; tries++) {
		ssize_t r = recv(pk, got, sizeof(got), MSG_DONTWAIT);

		if (r < 0) {
			usleep(10000);
			continue;
		}
		seen = r == 100 && !memcmp(got, pkt + HDR, 100);
	}
	assert_true(seen);

	/* Host to guest: a frame sent on the interface comes out of the tap. */
	for (int i = 0; i < 8; i++)
		add_rx(s, 2048);
	kick(s, 0);
	make_packet(pkt, 100, 77);
	memcpy(frame, pkt + HDR, 100);
	assert_int_equal(send(pk, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	seen = false;
	for (int tries = 0; tries < 20 && !seen; tries++) {
		run(s);
		while (get_used(s, 0, &id, &len)) {
			uint8_t *g = NULL;

			if (len != HDR + 100)
				continue;
			/* One-buffer chains: look for the frame in the buffers. */
			for (uint64_t a = BUF_GPA; a < s->buf_next; a += 64)
				if (!memcmp(gpa_ptr(s, a) + HDR, frame, 100))
					g = gpa_ptr(s, a);
			if (g) {
				uint16_t nb;

				memcpy(&nb, g + 10, 2);
				assert_int_equal(nb, 1);
				seen = true;
			}
		}
	}
	assert_true(seen);
	close(pk);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_fills_device),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_tx_reaches_tap),
		cmocka_unit_test(test_tx_blocked_resumes),
		cmocka_unit_test(test_tx_too_long_dropped),
		cmocka_unit_test(test_tx_malformed_breaks),
		cmocka_unit_test(test_rx_mergeable_spans_buffers),
		cmocka_unit_test(test_rx_without_mrg_needs_big_buffer),
		cmocka_unit_test(test_rx_waits_for_buffers),
		cmocka_unit_test(test_rx_mergeable_partial_then_kick),
		cmocka_unit_test(test_reset_drops_pending),
		cmocka_unit_test(test_rx_malformed_breaks),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_notify_flags),
		cmocka_unit_test(test_notify_event_idx),
		cmocka_unit_test(test_queue_size_default),
		cmocka_unit_test(test_queue_size_refused),
		cmocka_unit_test(test_queue_size_1024),
		cmocka_unit_test(test_real_tap),
		cmocka_unit_test(test_real_tap_fd),
	};

	/* Writes to a socketpair whose peer is gone raise it; a tap never does. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
