/*
 * vhost-net for virtio-net: the feature offer, the open errors, and the
 * start/reset hand-over checked against a fake kernel (the ioctl hook);
 * a real /dev/vhost-net with a tap when this machine has one.
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
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <cmocka.h>

#include "virtio/net.h"
#include "virtio/vhost_net.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	(1024 * 1024)
#define QSIZE		16
#define HDR		12
#define ETH_TEST	0x88b5
#define NO_VHOST	"/nonexistent/vhost-net"

#define RING_GPA(q)	(RAM_GPA + (uint64_t)(q) * 0x1000)
#define DESC_GPA(q)	RING_GPA(q)
#define AVAIL_GPA(q)	(RING_GPA(q) + 16 * QSIZE)
#define USED_GPA(q)	(RING_GPA(q) + 0x800)
#define BUF_GPA		(RAM_GPA + 0x4000)

#define F(b)		(1ULL << (b))

/* The fake kernel: what was asked of it, in order, and what it answers. */
struct fake_call {
	unsigned long req;
	unsigned int index;
	int fd;
	uint64_t num;
};

static struct {
	uint64_t features;		/* GET_FEATURES answer */
	uint64_t set_features;
	bool features_set;
	struct vhost_memory_region regions[8];
	unsigned int nregions;
	unsigned int num[2], base[2];
	struct vhost_vring_addr addr[2];
	int kick[2], call[2], backend[2];
	unsigned int get_base[2];	/* GET_VRING_BASE answers */
	unsigned long fail_req;		/* this request fails with fail_errno ... */
	unsigned int fail_index;	/* ... on this queue (vring requests) */
	int fail_errno;
	struct fake_call calls[64];
	unsigned int nr_calls;
} fk;

/* The library's own ioctl(), for the tests that talk to real devices. */
static int (*real_ioctl)(int fd, unsigned long req, void *arg);

static void fake_reset(uint64_t features)
{
	memset(&fk, 0, sizeof(fk));
	fk.features = features;
	for (int q = 0; q < 2; q++)
		fk.kick[q] = fk.call[q] = fk.backend[q] = -1;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	struct vhost_vring_state *st = arg;
	struct vhost_vring_file *vf = arg;
	struct vhost_vring_addr *va = arg;
	struct vhost_memory *m = arg;
	struct fake_call *c = &fk.calls[fk.nr_calls < 64 ? fk.nr_calls++ : 63];
	unsigned int index = 0;

	(void)fd;
	memset(c, 0, sizeof(*c));
	c->req = req;
	c->fd = -2;
	if (req == VHOST_SET_VRING_NUM || req == VHOST_SET_VRING_BASE ||
	    req == VHOST_GET_VRING_BASE) {
		index = st->index;
		c->num = st->num;
	} else if (req == VHOST_SET_VRING_KICK || req == VHOST_SET_VRING_CALL ||
		   req == VHOST_NET_SET_BACKEND) {
		index = vf->index;
		c->fd = vf->fd;
	} else if (req == VHOST_SET_VRING_ADDR) {
		index = va->index;
	}
	c->index = index;
	if (index > 1) {
		errno = ENOBUFS;
		return -1;
	}
	if (fk.fail_req == req && fk.fail_index == index) {
		errno = fk.fail_errno;
		return -1;
	}
	if (req == VHOST_SET_OWNER)
		return 0;
	if (req == VHOST_GET_FEATURES) {
		*(uint64_t *)arg = fk.features;
		return 0;
	}
	if (req == VHOST_SET_FEATURES) {
		fk.set_features = *(uint64_t *)arg;
		fk.features_set = true;
		c->num = fk.set_features;
		/* As the kernel does: nothing it did not offer. */
		if (fk.set_features & ~fk.features) {
			errno = EOPNOTSUPP;
			return -1;
		}
		return 0;
	}
	if (req == VHOST_SET_MEM_TABLE) {
		fk.nregions = m->nregions;
		assert_true(m->nregions <= 8);
		memcpy(fk.regions, m->regions, m->nregions * sizeof(m->regions[0]));
		return 0;
	}
	if (req == VHOST_SET_VRING_NUM) {
		fk.num[index] = st->num;
		return 0;
	}
	if (req == VHOST_SET_VRING_BASE) {
		fk.base[index] = st->num;
		return 0;
	}
	if (req == VHOST_GET_VRING_BASE) {
		st->num = fk.get_base[index];
		return 0;
	}
	if (req == VHOST_SET_VRING_ADDR) {
		fk.addr[index] = *va;
		return 0;
	}
	if (req == VHOST_SET_VRING_KICK) {
		fk.kick[index] = vf->fd;
		return 0;
	}
	if (req == VHOST_SET_VRING_CALL) {
		fk.call[index] = vf->fd;
		return 0;
	}
	if (req == VHOST_NET_SET_BACKEND) {
		fk.backend[index] = vf->fd;
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

/* Index in fk.calls of the first call of req on queue index at or after from, or -1. */
static int call_pos(unsigned long req, unsigned int index, unsigned int from)
{
	for (unsigned int i = from; i < fk.nr_calls; i++)
		if (fk.calls[i].req == req && fk.calls[i].index == index)
			return (int)i;
	return -1;
}

/* A simulated driver and transport, as in test_virtio_net.c, with eventfds. */
struct sim {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtq vqs[2];
	struct virtio_device d;
	int peer, fd;
	int kick_fd[2], call_fd[2];
	bool has_call[2];
	unsigned int kicks_seen[2];	/* the doorbell watch fired */
	uint16_t next_desc[2], avail_idx[2], used_seen[2];
	uint64_t buf_next;
	unsigned int notified[2];
	unsigned int broken;
};

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

static int fake_kick_fd(struct virtio_device *d, unsigned int q)
{
	struct sim *s = d->transport;

	return q < 2 ? s->kick_fd[q] : -1;
}

static int fake_call_fd(struct virtio_device *d, unsigned int q)
{
	struct sim *s = d->transport;

	return q < 2 && s->has_call[q] ? s->call_fd[q] : -1;
}

static const struct virtio_transport_ops fake_tops = {
	.queue_notify = fake_notify,
	.broken = fake_broken,
	.kick_fd = fake_kick_fd,
	.call_fd = fake_call_fd,
};

static struct kick_ctx {
	struct sim *s;
	unsigned int q;
} kick_ctx[2];

/* What the PCI transport's doorbell watch does. */
static void queue_kicked(void *opaque, uint32_t events)
{
	struct kick_ctx *k = opaque;
	struct sim *s = k->s;
	uint64_t n;

	(void)events;
	if (read(s->kick_fd[k->q], &n, sizeof(n)) < 0)
		return;
	s->kicks_seen[k->q]++;
	pthread_mutex_lock(&s->d.lock);
	if (s->d.started)
		s->d.ops->kick(&s->d, k->q);
	pthread_mutex_unlock(&s->d.lock);
}

static void *gpa_ptr(struct sim *s, uint64_t gpa)
{
	return s->ram + (gpa - RAM_GPA);
}

static uint64_t buf_alloc(struct sim *s, size_t len)
{
	uint64_t gpa = s->buf_next;

	s->buf_next += (len + 63) & ~63ULL;
	assert_true(s->buf_next <= RAM_GPA + RAM_SIZE);
	return gpa;
}

/* Make one driver-readable buffer available on queue q; its head. */
static uint16_t add_out(struct sim *s, unsigned int q, uint64_t gpa, uint32_t len)
{
	uint8_t *desc = gpa_ptr(s, DESC_GPA(q));
	uint8_t *avail = gpa_ptr(s, AVAIL_GPA(q));
	uint16_t head = s->next_desc[q], flags = 0, next = 0;
	uint8_t *e = desc + 16 * head;

	memcpy(e, &gpa, 8);
	memcpy(e + 8, &len, 4);
	memcpy(e + 12, &flags, 2);
	memcpy(e + 14, &next, 2);
	s->next_desc[q] = (uint16_t)((head + 1) % QSIZE);
	memcpy(avail + 4 + 2 * (s->avail_idx[q] % QSIZE), &head, 2);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->avail_idx[q]++;
	memcpy(avail + 2, &s->avail_idx[q], 2);
	return head;
}

static bool get_used(struct sim *s, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = gpa_ptr(s, USED_GPA(q));
	uint16_t idx;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memcpy(&idx, used + 2, 2);
	if (idx == s->used_seen[q])
		return false;
	memcpy(id, used + 4 + 8 * (s->used_seen[q] % QSIZE), 4);
	memcpy(len, used + 8 + 8 * (s->used_seen[q] % QSIZE), 4);
	s->used_seen[q]++;
	return true;
}

/*
 * Dispatch what the device thread would, until nothing comes for a while
 * (or a doorbell that rings itself again shows as endless events).
 */
static int run(struct sim *s)
{
	int total = 0, n;

	while (total < 1000 && (n = event_loop_run_once(&s->d.loop, 50)) > 0)
		total += n;
	assert_true(total < 1000);
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
	s->fd = s->peer = -1;
	for (int q = 0; q < 2; q++) {
		s->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		s->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(s->kick_fd[q] >= 0 && s->call_fd[q] >= 0);
		s->has_call[q] = true;
	}
	assert_int_equal(virtio_device_prepare(&s->d, "net0"), 0);
	return s;
}

/* The transport's part once the model filled d: queues, doorbell watches. */
static void sim_attach(struct sim *s)
{
	s->d.mem = &s->mem;
	s->d.vqs = s->vqs;
	s->d.tops = &fake_tops;
	s->d.transport = s;
	for (unsigned int q = 0; q < 2; q++) {
		kick_ctx[q] = (struct kick_ctx){ s, q };
		assert_int_equal(virtio_device_watch(&s->d, s->kick_fd[q], EPOLLIN, queue_kicked,
						     &kick_ctx[q]), 0);
	}
}

/* A device on a socketpair with vhost = on and the fake kernel, offering queue_size. */
static struct sim *sim_fake_sized(uint64_t vhost_features, unsigned int queue_size)
{
	struct virtio_net_params p = { .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
				       .raw_fd_for_tests = true, .vhost = true,
				       .vhost_path = "/dev/null", .queue_size = queue_size };
	struct sim *s = sim_new();
	char err[256] = "";
	int sv[2];

	fake_reset(vhost_features);
	vhost_net_ioctl = fake_ioctl;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	s->fd = sv[0];
	s->peer = sv[1];
	p.fd = s->fd;
	assert_int_equal(virtio_net_init(&s->d, &p, err, sizeof(err)), 0);
	sim_attach(s);
	return s;
}

static struct sim *sim_fake(uint64_t vhost_features)
{
	return sim_fake_sized(vhost_features, 0);
}

static void sim_free(struct sim *s)
{
	virtio_device_release(&s->d);
	for (int q = 0; q < 2; q++) {
		close(s->kick_fd[q]);
		close(s->call_fd[q]);
	}
	if (s->fd >= 0)
		close(s->fd);
	if (s->peer >= 0)
		close(s->peer);
	free(s->ram);
	free(s);
}

/* What the transport does at DRIVER_OK: 0 or the start's error. */
static int start(struct sim *s, uint64_t features)
{
	int ret;

	pthread_mutex_lock(&s->d.lock);
	s->d.features = features;
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(virtq_init(&s->vqs[q], &s->mem, QSIZE, DESC_GPA(q),
					    AVAIL_GPA(q), USED_GPA(q),
					    features & F(VIRTIO_F_EVENT_IDX), false), 0);
		s->next_desc[q] = s->avail_idx[q] = s->used_seen[q] = 0;
	}
	memset(gpa_ptr(s, RAM_GPA), 0, 0x4000);
	ret = s->d.ops->start(&s->d);
	s->d.started = !ret;
	pthread_mutex_unlock(&s->d.lock);
	return ret;
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

static uint64_t eventfd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) < 0)
		return 0;
	return v;
}

static const uint64_t all_vhost = F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_F_INDIRECT_DESC) |
				  F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_VERSION_1) |
				  F(VHOST_F_LOG_ALL) | F(VHOST_NET_F_VIRTIO_NET_HDR) |
				  F(VIRTIO_F_ACCESS_PLATFORM);
static const uint64_t drv_features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) |
				     F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
				     F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_NET_F_CSUM);

static void test_offer(void **state)
{
	uint64_t tap = F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |
		       F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
		       F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_HOST_TSO4);

	(void)state;
	/* Everything vhost does: the tap path's offer as it is, nothing added. */
	assert_int_equal(vhost_net_offer(tap, all_vhost), tap);
	/* A vhost without mergeable buffers: that bit goes, the offloads stay. */
	assert_int_equal(vhost_net_offer(tap, all_vhost & ~F(VIRTIO_NET_F_MRG_RXBUF)),
			 tap & ~F(VIRTIO_NET_F_MRG_RXBUF));
	/* Device bits vhost does not list (MAC, offloads) pass through. */
	assert_int_equal(vhost_net_offer(tap, F(VIRTIO_F_VERSION_1)),
			 tap & ~F(VIRTIO_NET_F_MRG_RXBUF));
	assert_int_equal(vhost_net_offer(0, all_vhost), 0);
}

static void test_open_missing(void **state)
{
	struct vhost_net v;
	char err[256] = "";

	(void)state;
	vhost_net_ioctl = fake_ioctl;
	assert_int_equal(vhost_net_open(&v, NO_VHOST, "tap t0", err, sizeof(err)), -ENOENT);
	assert_int_equal(v.fd, -1);
	assert_int_equal(strncmp(err, "tap t0: vhost = on: " NO_VHOST ": ", 20 + strlen(NO_VHOST) + 2), 0);
	assert_non_null(strstr(err, "modprobe vhost_net"));
}

static void test_open_not_vhost(void **state)
{
	struct vhost_net v;
	char err[256] = "";

	(void)state;
	/* The real ioctl on /dev/null: not a vhost device. */
	vhost_net_ioctl = real_ioctl;
	assert_int_equal(vhost_net_open(&v, "/dev/null", "tap t0", err, sizeof(err)), -ENOTTY);
	assert_non_null(strstr(err, "/dev/null is not a vhost-net device"));
	assert_int_equal(v.fd, -1);

	/* A kernel without virtio 1.0 in vhost: refused at init, not at start. */
	vhost_net_ioctl = fake_ioctl;
	fake_reset(all_vhost & ~F(VIRTIO_F_VERSION_1));
	err[0] = 0;
	assert_int_equal(vhost_net_open(&v, "/dev/null", "tap t0", err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "lacks virtio features 0x100000000"));

	fake_reset(all_vhost);
	assert_int_equal(vhost_net_open(&v, "/dev/null", "tap t0", err, sizeof(err)), 0);
	assert_true(v.fd >= 0);
	assert_int_equal(v.features, all_vhost);
	assert_int_equal(fk.calls[0].req, VHOST_SET_OWNER);
	assert_int_equal(fk.calls[1].req, VHOST_GET_FEATURES);
	vhost_net_close(&v);
	assert_int_equal(v.fd, -1);
}

static void test_init_offer_and_errors(void **state)
{
	struct virtio_net_params p = { .raw_fd_for_tests = true, .vhost = true };
	struct virtio_device d;
	char err[256] = "";
	int sv[2];
	struct sim *s;

	(void)state;
	s = sim_fake(all_vhost);
	assert_true(s->d.host_features & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(s->d.host_features & F(VIRTIO_NET_F_MAC));
	assert_false(s->d.host_features & F(VHOST_F_LOG_ALL));
	assert_false(s->d.host_features & F(VHOST_NET_F_VIRTIO_NET_HDR));
	/* Init asks nothing of the kernel beyond ownership and features. */
	assert_int_equal(fk.nr_calls, 2);
	sim_free(s);

	s = sim_fake(all_vhost & ~F(VIRTIO_NET_F_MRG_RXBUF));
	assert_false(s->d.host_features & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(s->d.host_features & F(VIRTIO_NET_F_STATUS));
	sim_free(s);

	/* No device: the error names the fix; the fd is still the caller's. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(virtio_device_prepare(&d, "net0"), 0);
	p.fd = sv[0];
	p.vhost_path = NO_VHOST;
	assert_int_equal(virtio_net_init(&d, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "modprobe vhost_net"));
	assert_int_equal(strncmp(err, "tap fd ", 7), 0);
	assert_null(d.ops);
	assert_true(fcntl(sv[0], F_GETFD) >= 0);
	virtio_device_release(&d);
	close(sv[0]);
	close(sv[1]);
}

static void test_unusable(void **state)
{
	struct sim *s = sim_fake(all_vhost);

	(void)state;
	assert_int_equal(start(s, drv_features), 0);
	pthread_mutex_lock(&s->d.lock);
	assert_null(vhost_net_unusable(&s->d));
	s->has_call[1] = false;
	assert_non_null(strstr(vhost_net_unusable(&s->d), "INTx"));
	s->has_call[1] = true;
	s->vqs[0].size = 0;
	assert_non_null(strstr(vhost_net_unusable(&s->d), "not set up"));
	s->vqs[0].size = QSIZE;
	s->d.tops = NULL;
	assert_non_null(strstr(vhost_net_unusable(&s->d), "doorbell"));
	s->d.tops = &fake_tops;
	pthread_mutex_unlock(&s->d.lock);
	reset(s);
	sim_free(s);
}

static void test_start_hands_over(void **state)
{
	struct sim *s = sim_fake(all_vhost);
	struct virtio_net_stats st;
	uint8_t pkt[HDR + 60] = { 0 }, peek[128];
	uint64_t one = 1;
	int feat, mem, v0, v1, b0, b1;

	(void)state;
	fk.nr_calls = 0;
	assert_int_equal(start(s, drv_features), 0);
	/* Only the bits vhost implements: no MAC, no CSUM, no LOG_ALL. */
	assert_true(fk.features_set);
	assert_int_equal(fk.set_features, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
					  F(VIRTIO_F_EVENT_IDX));
	assert_int_equal(fk.nregions, 1);
	assert_int_equal(fk.regions[0].guest_phys_addr, RAM_GPA);
	assert_int_equal(fk.regions[0].memory_size, RAM_SIZE);
	assert_int_equal(fk.regions[0].userspace_addr, (uintptr_t)s->ram);
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(fk.num[q], QSIZE);
		assert_int_equal(fk.base[q], 0);
		assert_int_equal(fk.addr[q].desc_user_addr, (uintptr_t)gpa_ptr(s, DESC_GPA(q)));
		assert_int_equal(fk.addr[q].avail_user_addr, (uintptr_t)gpa_ptr(s, AVAIL_GPA(q)));
		assert_int_equal(fk.addr[q].used_user_addr, (uintptr_t)gpa_ptr(s, USED_GPA(q)));
		assert_int_equal(fk.addr[q].flags, 0);
		assert_int_equal(fk.kick[q], s->kick_fd[q]);
		assert_int_equal(fk.call[q], s->call_fd[q]);
		assert_int_equal(fk.backend[q], s->fd);
	}
	/* Order: features, memory, each ring set up, then the backends. */
	feat = call_pos(VHOST_SET_FEATURES, 0, 0);
	mem = call_pos(VHOST_SET_MEM_TABLE, 0, 0);
	v0 = call_pos(VHOST_SET_VRING_CALL, 0, 0);
	v1 = call_pos(VHOST_SET_VRING_CALL, 1, 0);
	b0 = call_pos(VHOST_NET_SET_BACKEND, 0, 0);
	b1 = call_pos(VHOST_NET_SET_BACKEND, 1, 0);
	assert_true(feat >= 0 && feat < mem && mem < v0 && v0 < v1 && v1 < b0 && b0 < b1);
	assert_true(call_pos(VHOST_SET_VRING_NUM, 1, 0) > v0);

	/* The device thread leaves the doorbells and the tap to the kernel. */
	assert_int_equal(write(s->kick_fd[1], &one, sizeof(one)), sizeof(one));
	assert_int_equal(send(s->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
	run(s);
	assert_int_equal(s->kicks_seen[1], 0);
	assert_int_equal(eventfd_take(s->kick_fd[1]), 1);
	assert_int_equal(recv(s->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT),
			 (ssize_t)sizeof(pkt));
	virtio_net_get_stats(&s->d, &st);
	assert_int_equal(st.rx_packets + st.rx_dropped, 0);

	/* A kick the device thread took just before the hand-over goes to the kernel. */
	pthread_mutex_lock(&s->d.lock);
	s->d.ops->kick(&s->d, 0);
	pthread_mutex_unlock(&s->d.lock);
	assert_int_equal(eventfd_take(s->kick_fd[0]), 1);

	fk.nr_calls = 0;
	fk.get_base[0] = 5;
	reset(s);
	for (unsigned int q = 0; q < 2; q++) {
		int b = call_pos(VHOST_NET_SET_BACKEND, q, 0);
		int g = call_pos(VHOST_GET_VRING_BASE, q, 0);

		assert_true(b >= 0 && g > b);
		assert_int_equal(fk.backend[q], -1);
		assert_int_equal(fk.kick[q], -1);
		assert_int_equal(fk.call[q], -1);
	}
	/* The doorbells are the device thread's again. */
	assert_int_equal(write(s->kick_fd[1], &one, sizeof(one)), sizeof(one));
	run(s);
	assert_int_equal(s->kicks_seen[1], 1);

	/* A second start hands everything over again. */
	fk.nr_calls = 0;
	assert_int_equal(start(s, drv_features), 0);
	assert_int_equal(fk.backend[0], s->fd);
	assert_int_equal(fk.backend[1], s->fd);
	assert_int_equal(fk.call[1], s->call_fd[1]);
	reset(s);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

/* queue-size = 1024, rings of 1024 set by the driver: the kernel is given 1024. */
static void test_start_queue_size_1024(void **state)
{
	struct sim *s = sim_fake_sized(all_vhost, 1024);
	uint64_t ring[2];

	(void)state;
	assert_int_equal(s->d.queue_size_max, 1024);
	pthread_mutex_lock(&s->d.lock);
	s->d.features = drv_features;
	for (unsigned int q = 0; q < 2; q++) {
		/* 16K of descriptors, the avail ring at 16K, the used ring at 20K. */
		ring[q] = RAM_GPA + RAM_SIZE - 0x10000 + q * 0x8000;
		assert_int_equal(virtq_init(&s->vqs[q], &s->mem, 1024, ring[q], ring[q] + 0x4000,
					    ring[q] + 0x5000, true, false), 0);
	}
	assert_int_equal(s->d.ops->start(&s->d), 0);
	s->d.started = true;
	pthread_mutex_unlock(&s->d.lock);
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(fk.num[q], 1024);
		assert_int_equal(fk.addr[q].desc_user_addr, (uintptr_t)gpa_ptr(s, ring[q]));
		assert_int_equal(fk.addr[q].avail_user_addr,
				 (uintptr_t)gpa_ptr(s, ring[q] + 0x4000));
		assert_int_equal(fk.addr[q].used_user_addr,
				 (uintptr_t)gpa_ptr(s, ring[q] + 0x5000));
		assert_int_equal(fk.backend[q], s->fd);
	}
	reset(s);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

/* With INTx (no call eventfd) the VMM moves the packets itself. */
static void test_intx_falls_back(void **state)
{
	struct sim *s = sim_fake(all_vhost);
	uint8_t pkt[HDR + 60], got[256];
	uint32_t id = 0, len = 0;
	uint64_t one = 1, gpa;
	uint16_t head;

	(void)state;
	s->has_call[1] = false;
	fk.nr_calls = 0;
	assert_int_equal(start(s, drv_features), 0);
	assert_int_equal(fk.nr_calls, 0);
	assert_false(fk.features_set);

	memset(pkt, 0, sizeof(pkt));
	memset(pkt + HDR, 0xab, 60);
	gpa = buf_alloc(s, sizeof(pkt));
	memcpy(gpa_ptr(s, gpa), pkt, sizeof(pkt));
	head = add_out(s, 1, gpa, sizeof(pkt));
	assert_int_equal(write(s->kick_fd[1], &one, sizeof(one)), sizeof(one));
	run(s);
	assert_int_equal(s->kicks_seen[1], 1);
	assert_int_equal(recv(s->peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)sizeof(pkt));
	assert_memory_equal(got, pkt, sizeof(pkt));
	assert_true(get_used(s, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(s->notified[1], 1);

	/* Reset after a userspace start asks nothing of the kernel. */
	reset(s);
	assert_int_equal(fk.nr_calls, 0);

	/* MSI-X on the next start: vhost takes over. */
	s->has_call[1] = true;
	assert_int_equal(start(s, drv_features), 0);
	assert_int_equal(fk.backend[1], s->fd);
	reset(s);
	sim_free(s);
}

/* A start the kernel refuses fails, with nothing left in the kernel's hands. */
static void test_start_failure_undone(void **state)
{
	struct sim *s = sim_fake(all_vhost);
	uint64_t one = 1;

	(void)state;
	fk.fail_req = VHOST_NET_SET_BACKEND;
	fk.fail_index = 1;
	fk.fail_errno = ENOTSOCK;
	assert_int_equal(start(s, drv_features), -ENOTSOCK);
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(fk.backend[q], -1);
		assert_int_equal(fk.kick[q], -1);
		assert_int_equal(fk.call[q], -1);
	}
	assert_true(call_pos(VHOST_NET_SET_BACKEND, 0, 0) >= 0);
	/* The doorbells were never paused. */
	assert_int_equal(write(s->kick_fd[0], &one, sizeof(one)), sizeof(one));
	run(s);
	assert_int_equal(s->kicks_seen[0], 1);
	reset(s);

	/* Failing on the second ring: only what was set is undone. */
	fake_reset(all_vhost);
	fk.fail_req = VHOST_SET_VRING_ADDR;
	fk.fail_index = 1;
	fk.fail_errno = EFAULT;
	assert_int_equal(start(s, drv_features), -EFAULT);
	assert_int_equal(fk.kick[0], -1);
	assert_int_equal(fk.call[0], -1);
	assert_int_equal(call_pos(VHOST_NET_SET_BACKEND, 0, 0) >= 0, 1);
	assert_int_equal(call_pos(VHOST_NET_SET_BACKEND, 1, 0) >= 0, 1);
	reset(s);

	/* A doorbell the device thread does not watch cannot be paused: refused. */
	{
		int watched = s->kick_fd[1];

		s->kick_fd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fake_reset(all_vhost);
		assert_int_equal(start(s, drv_features), -ENOENT);
		assert_int_equal(fk.backend[0], -1);
		assert_int_equal(fk.backend[1], -1);
		assert_true(call_pos(VHOST_NET_SET_BACKEND, 1, 0) >= 0);
		close(s->kick_fd[1]);
		s->kick_fd[1] = watched;
		reset(s);
		/* Queue 0's doorbell is watched again. */
		assert_int_equal(write(s->kick_fd[0], &one, sizeof(one)), sizeof(one));
		run(s);
		assert_int_equal(s->kicks_seen[0], 2);
	}

	/* And the next start works. */
	fake_reset(all_vhost);
	assert_int_equal(start(s, drv_features), 0);
	assert_int_equal(fk.backend[0], s->fd);
	reset(s);
	sim_free(s);
}

/*
 * The real kernel, when this machine has vhost-net and lets us make a tap.
 * Otherwise it says why and passes: cmocka's TAP "not ok # SKIP" is a
 * failure to automake's driver.
 */

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

static void test_real_vhost(void **state)
{
	struct virtio_net_params p = { .mac = { 0x52, 0x54, 0, 1, 2, 4 }, .vhost = true };
	struct sockaddr_ll sll = { 0 };
	uint8_t pkt[HDR + 100], got[2048];
	char err[256] = "", name[IFNAMSIZ], path[128];
	struct pollfd pfd;
	bool seen = false;
	struct sim *s;
	uint32_t id = 0, len = 0;
	uint64_t one = 1, gpa;
	uint16_t head;
	int fd, pk;
	FILE *f;

	(void)state;
	vhost_net_ioctl = real_ioctl;
	fd = open(VHOST_NET_DEFAULT_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		print_message("# skipped: no " VHOST_NET_DEFAULT_PATH " here: %m\n");
		return;
	}
	close(fd);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		print_message("# skipped: no /dev/net/tun here: %m\n");
		return;
	}
	close(fd);
	snprintf(name, sizeof(name), "vmmv%d", (int)getpid() % 100000);
	p.tap = name;
	s = sim_new();
	if (virtio_net_init(&s->d, &p, err, sizeof(err))) {
		print_message("# skipped: no vhost-net with a tap here: %s\n", err);
		sim_free(s);
		return;
	}
	sim_attach(s);
	assert_int_equal(start(s, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) |
				  F(VIRTIO_NET_F_MRG_RXBUF)), 0);

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	f = fopen(path, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	pk = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));
	if (pk < 0 || ifflags(name, IFF_UP)) {
		print_message("# skipped: no packet socket or cannot set %s up: %m\n", name);
		if (pk >= 0)
			close(pk);
		reset(s);
		sim_free(s);
		return;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_TEST);
	sll.sll_ifindex = (int)if_nametoindex(name);
	assert_int_equal(bind(pk, (struct sockaddr *)&sll, sizeof(sll)), 0);

	/* Guest to host through the kernel: ring the doorbell as KVM would. */
	memset(pkt, 0, sizeof(pkt));
	memset(pkt + HDR, 0xff, 6);
	memcpy(pkt + HDR + 6, "\x52\x54\x00\x01\x02\x04", 6);
	pkt[HDR + 12] = ETH_TEST >> 8;
	pkt[HDR + 13] = ETH_TEST & 0xff;
	for (size_t i = 14; i < 100; i++)
		pkt[HDR + i] = (uint8_t)(i * 5);
	gpa = buf_alloc(s, sizeof(pkt));
	memcpy(gpa_ptr(s, gpa), pkt, sizeof(pkt));
	head = add_out(s, 1, gpa, sizeof(pkt));
	assert_int_equal(write(s->kick_fd[1], &one, sizeof(one)), sizeof(one));
	for (int tries = 0; tries < 100 && !seen; tries++) {
		ssize_t r = recv(pk, got, sizeof(got), MSG_DONTWAIT);

		if (r < 0) {
			usleep(10000);
			continue;
		}
		seen = r == 100 && !memcmp(got, pkt + HDR, 100);
	}
	assert_true(seen);
	/* The kernel returned the buffer and interrupted through the call eventfd. */
	pfd = (struct pollfd){ .fd = s->call_fd[1], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 1000), 1);
	assert_true(get_used(s, 1, &id, &len));
	assert_int_equal(id, head);
	/* The device thread never saw the doorbell. */
	run(s);
	assert_int_equal(s->kicks_seen[1], 0);
	close(pk);
	reset(s);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_not_vhost),
		cmocka_unit_test(test_init_offer_and_errors),
		cmocka_unit_test(test_unusable),
		cmocka_unit_test(test_start_hands_over),
		cmocka_unit_test(test_start_queue_size_1024),
		cmocka_unit_test(test_intx_falls_back),
		cmocka_unit_test(test_start_failure_undone),
		cmocka_unit_test(test_real_vhost),
	};

	real_ioctl = vhost_net_ioctl;
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
