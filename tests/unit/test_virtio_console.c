/*
 * virtio-console driven by a simulated driver in a guest RAM buffer, with a
 * fake transport: output, input with back-pressure and the ready callback.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ids.h>
#include <cmocka.h>

#include "virtio/console.h"

#define RAM_GPA		0x200000ULL
#define RAM_SIZE	(256 * 1024)
#define QSIZE		8
#define RING_GPA(q)	(RAM_GPA + (uint64_t)(q) * 0x1000)
#define DESC_GPA(q)	RING_GPA(q)
#define AVAIL_GPA(q)	(RING_GPA(q) + 16 * QSIZE)
#define USED_GPA(q)	(RING_GPA(q) + 0x800)
#define BUF_GPA		(RAM_GPA + 0x4000)
#define RXQ		0
#define TXQ		1

struct sim {
	uint8_t *ram;
	struct guest_mem mem;
	struct virtq vqs[2];
	struct virtio_device d;
	uint16_t next_desc[2];
	uint16_t avail_idx[2];
	uint16_t used_seen[2];
	uint16_t kicked_idx[2];
	bool event_idx;
	uint64_t buf_next;
	unsigned int notified[2];
	unsigned int broken;

	uint8_t out[32768];
	size_t out_len;
	unsigned int out_calls;
	unsigned int ready_calls;
	bool ready_unlocked;		/* the device lock was free during ready */
	const char *ready_feed;		/* what ready hands back to receive */
	size_t ready_took;
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

static const struct virtio_transport_ops fake_tops = {
	.queue_notify = fake_notify,
	.broken = fake_broken,
};

static void on_output(void *opaque, const uint8_t *buf, size_t len)
{
	struct sim *s = opaque;

	assert_true(s->out_len + len <= sizeof(s->out));
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
	s->out_calls++;
}

static void on_ready(void *opaque)
{
	struct sim *s = opaque;

	s->ready_calls++;
	s->ready_unlocked = !pthread_mutex_trylock(&s->d.lock);
	if (s->ready_unlocked)
		pthread_mutex_unlock(&s->d.lock);
	if (s->ready_feed)
		s->ready_took = virtio_console_receive(&s->d, (const uint8_t *)s->ready_feed,
						       strlen(s->ready_feed));
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

struct sbuf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static uint16_t add_chain(struct sim *s, unsigned int q, const struct sbuf *b, unsigned int n)
{
	uint8_t *desc = gpa_ptr(s, DESC_GPA(q));
	uint8_t *avail = gpa_ptr(s, AVAIL_GPA(q));
	uint16_t head = s->next_desc[q];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % QSIZE);
		uint8_t *e = desc + 16 * idx;
		uint16_t flags = (b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		uint16_t next = (uint16_t)((idx + 1) % QSIZE);

		memcpy(e, &b[i].gpa, 8);
		memcpy(e + 8, &b[i].len, 4);
		memcpy(e + 12, &flags, 2);
		memcpy(e + 14, &next, 2);
	}
	s->next_desc[q] = (uint16_t)((head + n) % QSIZE);
	memcpy(avail + 4 + 2 * (s->avail_idx[q] % QSIZE), &head, 2);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->avail_idx[q]++;
	memcpy(avail + 2, &s->avail_idx[q], 2);
	return head;
}

static uint64_t add_rx(struct sim *s, uint32_t len)
{
	struct sbuf b = { buf_alloc(s, len), len, true };

	add_chain(s, RXQ, &b, 1);
	return b.gpa;
}

static uint16_t add_tx(struct sim *s, const char *text)
{
	size_t len = strlen(text);
	struct sbuf b = { buf_alloc(s, len), (uint32_t)len, false };

	memcpy(gpa_ptr(s, b.gpa), text, len);
	return add_chain(s, TXQ, &b, 1);
}

static bool get_used(struct sim *s, unsigned int q, uint32_t *id, uint32_t *len)
{
	uint8_t *used = gpa_ptr(s, USED_GPA(q));
	uint16_t idx;

	memcpy(&idx, used + 2, 2);
	if (idx == s->used_seen[q])
		return false;
	memcpy(id, used + 4 + 8 * (s->used_seen[q] % QSIZE), 4);
	memcpy(len, used + 8 + 8 * (s->used_seen[q] % QSIZE), 4);
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
	uint8_t *used = gpa_ptr(s, USED_GPA(q));
	uint16_t new_idx = s->avail_idx[q], old = s->kicked_idx[q], ev, flags;
	bool need;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->kicked_idx[q] = new_idx;
	if (s->event_idx) {
		memcpy(&ev, used + 4 + 8 * QSIZE, 2);
		need = (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
	} else {
		memcpy(&flags, used, 2);
		need = !(flags & VIRTQ_USED_F_NO_NOTIFY);
	}
	if (need)
		kick(s, q);
	return need;
}

static void start(struct sim *s)
{
	pthread_mutex_lock(&s->d.lock);
	s->d.features = 1ULL << VIRTIO_F_VERSION_1;
	for (unsigned int q = 0; q < 2; q++)
		assert_int_equal(virtq_init(&s->vqs[q], &s->mem, QSIZE, DESC_GPA(q),
					    AVAIL_GPA(q), USED_GPA(q), s->event_idx, false), 0);
	assert_int_equal(s->d.ops->start(&s->d), 0);
	s->d.started = true;
	pthread_mutex_unlock(&s->d.lock);
}

/* Run the device thread's loop until it is idle. */
static int run(struct sim *s)
{
	int total = 0, n;

	while ((n = event_loop_run_once(&s->d.loop, 20)) > 0)
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
	assert_int_equal(virtio_device_prepare(&s->d, "hvc0"), 0);
	assert_int_equal(virtio_console_init(&s->d, on_output, on_ready, s), 0);
	s->d.mem = &s->mem;
	s->d.vqs = s->vqs;
	s->d.tops = &fake_tops;
	s->d.transport = s;
	return s;
}

static void sim_free(struct sim *s)
{
	virtio_device_release(&s->d);
	free(s->ram);
	free(s);
}

static void test_init(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	assert_int_equal(s->d.id, VIRTIO_ID_CONSOLE);
	assert_int_equal(s->d.nr_queues, 2);
	assert_int_equal(s->d.host_features, 0);	/* no SIZE, no MULTIPORT */
	assert_true(s->d.queue_size_max >= QSIZE);
	assert_non_null(s->d.ops);
	sim_free(s);
}

static void test_output(void **state)
{
	struct sim *s = sim_new();
	struct sbuf b[2];
	uint32_t id = 0, len = 1;
	uint16_t h1, h2;

	(void)state;
	start(s);
	b[0] = (struct sbuf){ buf_alloc(s, 6), 6, false };
	b[1] = (struct sbuf){ buf_alloc(s, 5), 5, false };
	memcpy(gpa_ptr(s, b[0].gpa), "hello ", 6);
	memcpy(gpa_ptr(s, b[1].gpa), "world", 5);
	h1 = add_chain(s, TXQ, b, 2);
	h2 = add_tx(s, "\r\n");
	kick(s, TXQ);
	assert_int_equal(s->out_len, 13);
	assert_memory_equal(s->out, "hello world\r\n", 13);
	assert_true(get_used(s, TXQ, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 0);
	assert_true(get_used(s, TXQ, &id, &len));
	assert_int_equal(id, h2);
	assert_false(get_used(s, TXQ, &id, &len));
	assert_int_equal(s->notified[TXQ], 1);
	sim_free(s);
}

static void test_output_large(void **state)
{
	struct sim *s = sim_new();
	size_t big = 20000;
	struct sbuf b = { 0, (uint32_t)big, false };
	uint32_t id, len;
	uint8_t *p;

	(void)state;
	start(s);
	b.gpa = buf_alloc(s, big);
	p = gpa_ptr(s, b.gpa);
	for (size_t i = 0; i < big; i++)
		p[i] = (uint8_t)(i * 13 + i / 256);
	add_chain(s, TXQ, &b, 1);
	kick(s, TXQ);
	assert_int_equal(s->out_len, big);
	assert_memory_equal(s->out, p, big);
	assert_true(s->out_calls > 1);		/* in pieces */
	assert_true(get_used(s, TXQ, &id, &len));
	sim_free(s);
}

static void test_receive(void **state)
{
	struct sim *s = sim_new();
	uint32_t id = 0, len = 0;
	uint64_t g1, g2;

	(void)state;
	start(s);
	g1 = add_rx(s, 4);
	g2 = add_rx(s, 4);
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"abcdefghij", 10), 8);
	assert_true(get_used(s, RXQ, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 4);
	assert_true(get_used(s, RXQ, &id, &len));
	assert_int_equal(id, 1);
	assert_int_equal(len, 4);
	assert_false(get_used(s, RXQ, &id, &len));
	assert_memory_equal(gpa_ptr(s, g1), "abcd", 4);
	assert_memory_equal(gpa_ptr(s, g2), "efgh", 4);
	assert_true(s->notified[RXQ] >= 1);

	/* A short write into a big buffer: used length is what was written. */
	g1 = add_rx(s, 64);
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"ij", 2), 2);
	assert_true(get_used(s, RXQ, &id, &len));
	assert_int_equal(len, 2);
	assert_memory_equal(gpa_ptr(s, g1), "ij", 2);
	assert_int_equal(s->ready_calls, 0);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

static void test_refused_then_ready(void **state)
{
	struct sim *s = sim_new();
	uint32_t id = 0, len = 0;
	uint64_t g;

	(void)state;
	start(s);
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"xyz", 3), 0);
	run(s);
	assert_int_equal(s->ready_calls, 0);
	/* The guest gives a buffer: ready comes from the device thread. */
	g = add_rx(s, 16);
	s->ready_feed = "xyz";
	kick(s, RXQ);
	run(s);
	assert_int_equal(s->ready_calls, 1);
	assert_true(s->ready_unlocked);
	assert_int_equal(s->ready_took, 3);
	assert_true(get_used(s, RXQ, &id, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(gpa_ptr(s, g), "xyz", 3);

	/* Not refused since: further kicks do not call ready. */
	add_rx(s, 16);
	kick(s, RXQ);
	run(s);
	assert_int_equal(s->ready_calls, 1);
	sim_free(s);
}

/* With EVENT_IDX the driver kicks only past avail_event: input still flows. */
static void test_refused_event_idx(void **state)
{
	struct sim *s = sim_new();
	uint32_t id = 0, len = 0;
	unsigned int used = 0;

	(void)state;
	s->event_idx = true;
	start(s);
	for (int round = 0; round < 3; round++) {
		add_rx(s, 2);
		add_rx(s, 2);
		driver_kick(s, RXQ);
		assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"abcdef", 6), 4);
		while (get_used(s, RXQ, &id, &len))
			used++;
	}
	assert_int_equal(used, 6);
	/* Refused now; the guest's next buffer must come with a kick. */
	add_rx(s, 2);
	assert_true(driver_kick(s, RXQ));
	run(s);
	assert_int_equal(s->ready_calls, 1);
	sim_free(s);
}

static void test_receive_before_start(void **state)
{
	struct sim *s = sim_new();

	(void)state;
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"early", 5), 0);
	run(s);
	assert_int_equal(s->ready_calls, 0);
	start(s);
	run(s);
	assert_int_equal(s->ready_calls, 1);
	sim_free(s);
}

static void test_malformed_chains(void **state)
{
	struct sim *s = sim_new();
	struct sbuf out_of_ram = { RAM_GPA + RAM_SIZE - 4, 64, false };
	struct sbuf readable = { BUF_GPA, 16, false };
	struct sbuf tx_writable[2] = { { BUF_GPA, 4, false }, { BUF_GPA + 64, 16, true } };

	(void)state;
	start(s);
	add_chain(s, TXQ, &out_of_ram, 1);
	kick(s, TXQ);
	assert_int_equal(s->broken, 1);
	assert_false(s->d.started);
	assert_int_equal(s->out_len, 0);
	sim_free(s);

	/* Output with a buffer the device may write: nothing is printed. */
	s = sim_new();
	start(s);
	memcpy(gpa_ptr(s, BUF_GPA), "oops", 4);
	add_chain(s, TXQ, tx_writable, 2);
	kick(s, TXQ);
	assert_int_equal(s->broken, 1);
	assert_false(s->d.started);
	assert_int_equal(s->out_len, 0);
	sim_free(s);

	s = sim_new();
	start(s);
	add_chain(s, RXQ, &readable, 1);
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"q", 1), 0);
	assert_int_equal(s->broken, 1);
	assert_false(s->d.started);
	assert_int_equal(virtio_console_receive(&s->d, (const uint8_t *)"q", 1), 0);
	sim_free(s);
}

/* Input from another thread while the device thread handles output. */
struct feeder {
	struct sim *s;
	size_t total;
};

static void *feed_thread(void *opaque)
{
	struct feeder *f = opaque;
	char byte = 'a';

	for (int i = 0; i < 200000 && f->total < 64; i++)
		f->total += virtio_console_receive(&f->s->d, (const uint8_t *)&byte, 1);
	return NULL;
}

static void test_receive_from_thread(void **state)
{
	struct sim *s = sim_new();
	struct feeder f = { s, 0 };
	pthread_t t;

	(void)state;
	start(s);
	for (int i = 0; i < QSIZE; i++)
		add_rx(s, 8);
	assert_int_equal(pthread_create(&t, NULL, feed_thread, &f), 0);
	for (int i = 0; i < 100; i++) {
		add_tx(s, "o");
		kick(s, TXQ);
	}
	pthread_join(t, NULL);
	assert_int_equal(f.total, QSIZE);	/* one byte per buffer, eight buffers */
	assert_true(s->out_len > 0);
	assert_int_equal(s->broken, 0);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_output_large),
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_refused_then_ready),
		cmocka_unit_test(test_refused_event_idx),
		cmocka_unit_test(test_receive_before_start),
		cmocka_unit_test(test_malformed_chains),
		cmocka_unit_test(test_receive_from_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
