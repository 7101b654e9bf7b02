/*
 * libFuzzer target: a virtio device (rng, console, blk or net) on the
 * virtio-pci transport, driven by a guest that the input scripts: config
 * space and BAR accesses of any offset and width, writes into guest RAM
 * (rings, requests), doorbells, and backend input (packets, console bytes).
 *
 * The device thread is stopped right after virtio_pci_create() and its
 * event loop is run from here, between operations, so a run depends only on
 * the input (blk's thread pool aside: its completions are collected with a
 * short wait).
 *
 * Input: one byte picking the device and its options, then operations
 * until the input ends (see the switch below; the first byte of each picks
 * it, the next bytes are its arguments).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hw/io.h"
#include "pci/endpoint.h"
#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/device.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/pci_layout.h"
#include "virtio/rng.h"
#include "fuzz_check.h"

#define RAM_GPA		0x100000ull
#define RAM_SIZE	0x10000ull
#define BAR		0xc0000000ull
#define IMG_SIZE	(64 * 1024)
#define MAX_OPS		512
#define MAX_VECTORS	8

enum kind { K_RNG, K_CONSOLE, K_BLK, K_NET, NR_KINDS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

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

static uint32_t take32(struct input *in)
{
	uint32_t lo = take16(in);

	return lo | (uint32_t)take16(in) << 16;
}

static uint64_t take64(struct input *in)
{
	uint64_t lo = take32(in);

	return lo | (uint64_t)take32(in) << 32;
}

struct rig {
	enum kind kind;
	uint8_t *ram;
	struct guest_mem mem;
	struct io_bus bus;
	struct pci_func f;
	struct virtio_device d;
	struct virtio_pci vp;
	bool created;
	int net_fd, net_peer;
	unsigned int fired[MAX_VECTORS];
	int intx_level;
	uint64_t out_sum;
};

static char img_path[64] = "";
static int img_fd = -1;
static uint8_t pkt[4096];

static void rec_fire(void *opaque, unsigned int vec)
{
	struct rig *r = opaque;

	CHECK(vec < r->f.msix_vectors);
	r->fired[vec % MAX_VECTORS]++;
}

static int rec_update(void *opaque, unsigned int vec, const struct msi_msg *m, bool masked)
{
	struct rig *r = opaque;

	CHECK(vec < r->f.msix_vectors);
	return 0;
}

static bool rec_pending(void *opaque, unsigned int vec)
{
	return false;
}

static int rec_eventfd(void *opaque, unsigned int vec)
{
	return -1;
}

static const struct msi_ops rec_ops = {
	.update = rec_update,
	.pending = rec_pending,
	.fire = rec_fire,
	.eventfd = rec_eventfd,
};

static void rec_intx(void *opaque, unsigned int gsi, int level)
{
	struct rig *r = opaque;

	r->intx_level = level;
}

/* Console output: every byte must be readable (ASan checks the sum). */
static void console_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct rig *r = opaque;

	for (size_t i = 0; i < len; i++)
		r->out_sum += buf[i];
}

static void console_ready(void *opaque)
{
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* A broken driver is the common case here: keep the warnings out. */
	log_init("fuzz_virtio_pci", getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_ERROR);
	/* The thread pool: its preadv/pwritev are checked by ASan's interceptors. */
	setenv("VMM_BLK_NO_URING", "1", 1);
	snprintf(img_path, sizeof(img_path), "/tmp/fuzz_virtio_blk.XXXXXX");
	img_fd = mkstemp(img_path);
	if (img_fd < 0) {
		perror("fuzz_virtio_pci: mkstemp");
		abort();
	}
	/* No file left behind, even after a crash: blk opens it through /proc. */
	unlink(img_path);
	snprintf(img_path, sizeof(img_path), "/proc/self/fd/%d", img_fd);
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 1);
	return 0;
}

static int device_init(struct rig *r, uint8_t opt)
{
	char err[256];
	int sv[2];

	switch (r->kind) {
	case K_RNG:
		return virtio_rng_init(&r->d);
	case K_CONSOLE:
		return virtio_console_init(&r->d, console_out, console_ready, r);
	case K_BLK: {
		struct virtio_blk_params p = {
			.path = img_path,
			.readonly = opt & 4,
			.discard = opt & 8,
			.queues = 1 + (opt >> 4 & 1),
			.serial = (opt & 32) ? "fuzz-serial-0123456" : NULL,
		};

		/* A fresh image each run: what a run wrote does not leak into the next. */
		if (ftruncate(img_fd, 0) || ftruncate(img_fd, IMG_SIZE))
			return -errno;
		return virtio_blk_init(&r->d, &p, err, sizeof(err));
	}
	case K_NET: {
		struct virtio_net_params p = {
			.mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
			.raw_fd_for_tests = true,
		};

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv))
			return -errno;
		r->net_fd = sv[0];
		r->net_peer = sv[1];
		p.fd = r->net_fd;
		return virtio_net_init(&r->d, &p, err, sizeof(err));
	}
	default:
		return -EINVAL;
	}
}

/* Stop the thread virtio_pci_create() started: this thread runs the loop. */
static void stop_device_thread(struct virtio_device *d)
{
	uint64_t one = 1;

	if (!d->thread_running)
		return;
	if (write(d->quit_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	pthread_join(d->thread, NULL);
	d->thread_running = false;
}

static int rig_open(struct rig *r, uint8_t opt)
{
	struct msi_port port = { .ops = &rec_ops, .opaque = r };
	struct irq_line intx = { .set = rec_intx, .opaque = r, .gsi = 16 };
	static const unsigned int vectors[4] = { 1, 2, 3, 8 };
	char err[256];
	int ret;

	memset(r, 0, sizeof(*r));
	r->kind = (enum kind)(opt % NR_KINDS);
	r->net_fd = r->net_peer = -1;
	r->ram = malloc(RAM_SIZE);	/* exactly RAM: ASan sees any byte past it */
	if (!r->ram)
		abort();
	memset(r->ram, 0, RAM_SIZE);
	r->mem.nr = 1;
	r->mem.regions[0] = (struct guest_region){ RAM_GPA, RAM_SIZE, r->ram };
	io_bus_init(&r->bus);
	r->f.kind = PCI_FUNC_ENDPOINT;
	r->f.vendor = VIRTIO_PCI_VENDOR;
	r->f.intx_pin = 1;
	r->f.gsi = 16;
	r->f.msix_vectors = vectors[opt >> 6];
	r->f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM64, .size = VIRTIO_PCI_BAR_SIZE,
					 .addr = BAR };
	if (virtio_device_prepare(&r->d, "fuzz0"))
		abort();
	ret = device_init(r, opt);
	if (ret) {
		fprintf(stderr, "fuzz_virtio_pci: device %d: %s\n", r->kind, strerror(-ret));
		abort();
	}
	r->f.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + r->d.id);
	ret = virtio_pci_create(&r->vp, &r->d, &r->f, &r->mem, &r->bus, &port, &intx, NULL,
				err, sizeof(err));
	if (ret) {
		fprintf(stderr, "fuzz_virtio_pci: virtio_pci_create: %s\n", err);
		abort();
	}
	r->created = true;
	stop_device_thread(&r->d);
	return 0;
}

static void rig_close(struct rig *r)
{
	if (r->created)
		virtio_pci_destroy(&r->vp);
	if (r->net_fd >= 0)
		close(r->net_fd);
	if (r->net_peer >= 0)
		close(r->net_peer);
	io_bus_free(&r->bus);
	free(r->ram);
}

/* What the device thread would do now: kicks, backend events, completions. */
static void run_loop(struct rig *r)
{
	bool busy = false;
	int n;

	for (int i = 0; i < 64; i++) {
		n = event_loop_run_once(&r->d.loop, 0);
		if (n <= 0)
			break;
		busy = true;
	}
	/* blk's thread pool finishes requests a little later. */
	for (int i = 0; busy && r->kind == K_BLK && i < 64; i++)
		if (event_loop_run_once(&r->d.loop, 2) <= 0)
			break;
	/* Frames the device sent out: drain them so the socket never fills. */
	if (r->net_peer >= 0)
		while (recv(r->net_peer, pkt, sizeof(pkt), MSG_DONTWAIT) > 0)
			;
}

static uint64_t bar_offset(struct input *in, unsigned int region)
{
	switch (region % 8) {
	case 0:
	case 7:
		return VIRTIO_PCI_COMMON_OFF + take8(in) % 0x40;
	case 1:
		return VIRTIO_PCI_ISR_OFF + take8(in) % 8;
	case 2:
		return VIRTIO_PCI_DEVICE_OFF + take8(in);
	case 3:
		return VIRTIO_PCI_NOTIFY_OFF + take16(in) % 0x1000;
	case 4:
		return VIRTIO_PCI_MSIX_TABLE_OFF + take16(in) % 0x1000;
	case 5:
		return VIRTIO_PCI_MSIX_PBA_OFF + take8(in);
	default:
		return take16(in);	/* anywhere, past the BAR too */
	}
}

static void bar_wr(struct rig *r, uint64_t off, unsigned int len, uint64_t v)
{
	io_bus_write(&r->bus, IO_SPACE_MMIO, BAR + off, len, v);
}

static uint64_t bar_rd(struct rig *r, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	io_bus_read(&r->bus, IO_SPACE_MMIO, BAR + off, len, &v);
	return v;
}

/*
 * The Linux driver's bring-up in one operation (the fuzzer would take long
 * to find it byte by byte): reset, features, one queue, MSI-X, DRIVER_OK.
 */
static void bring_up(struct rig *r, struct input *in)
{
	uint8_t how = take8(in);
	uint32_t feat_lo = take32(in), feat_hi = take32(in);
	uint16_t q = take8(in), qsize = take16(in);
	uint64_t desc = RAM_GPA + take16(in), avail = RAM_GPA + take16(in);
	uint64_t used = RAM_GPA + take16(in);
	uint16_t vec = take8(in);

	if (how & 1) {
		unsigned int cap = pci_endpoint_find_cap(&r->vp.ep, 0x11);	/* MSI-X */

		/* Memory decoding and MSI-X on, every vector unmasked. */
		pci_endpoint_write(&r->vp.ep, 0x04, 2, 0x0006);
		if (cap)
			pci_endpoint_write(&r->vp.ep, cap + 2, 2, 0x8000);
		for (unsigned int v = 0; v < r->f.msix_vectors; v++) {
			bar_wr(r, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16, 4, 0xfee00000);
			bar_wr(r, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16 + 8, 4, 0x40 + v);
			bar_wr(r, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16 + 12, 4, 0);
		}
	}
	if (how & 2) {
		bar_wr(r, 0x14, 1, 0);
		bar_wr(r, 0x14, 1, 1);
		bar_wr(r, 0x14, 1, 3);
		bar_wr(r, 0x08, 4, 0);
		bar_wr(r, 0x0c, 4, feat_lo);
		bar_wr(r, 0x08, 4, 1);
		bar_wr(r, 0x0c, 4, feat_hi | ((how & 4) ? 1 : 0));	/* VERSION_1 */
		bar_wr(r, 0x14, 1, 3 | 8);
		bar_wr(r, 0x10, 2, vec);
	}
	bar_wr(r, 0x16, 2, q);
	bar_wr(r, 0x18, 2, qsize);
	bar_wr(r, 0x1a, 2, vec);
	bar_wr(r, 0x20, 8, desc);
	bar_wr(r, 0x28, 8, avail);
	bar_wr(r, 0x30, 8, used);
	bar_wr(r, 0x1c, 2, 1);
	if (how & 8)
		bar_wr(r, 0x14, 1, 3 | 8 | 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct rig r;

	if (!size)
		return 0;
	rig_open(&r, take8(&in));
	for (unsigned int n = 0; n < MAX_OPS && in.left; n++) {
		uint8_t op = take8(&in);
		unsigned int len;
		uint64_t off, v;

		switch (op % 10) {
		case 0:		/* config space read */
			off = take16(&in) % 0x1000;
			len = 1u << (take8(&in) % 3);
			v = pci_endpoint_read(&r.vp.ep, (unsigned int)off, len);
			CHECK(len == 4 || v >> (8 * len) == 0);
			break;
		case 1:		/* config space write */
			off = take16(&in) % 0x1000;
			len = 1u << (take8(&in) % 3);
			pci_endpoint_write(&r.vp.ep, (unsigned int)off, len, take32(&in));
			break;
		case 2:		/* BAR read */
			off = bar_offset(&in, op >> 4);
			len = 1u << (take8(&in) % 4);
			v = bar_rd(&r, off, len);
			CHECK(len == 8 || v >> (8 * len) == 0 || v == ~0ull >> (64 - 8 * len) ||
			      v == ~0ull);
			/* The ISR holds two bits (while the BAR still decodes here). */
			if (off == VIRTIO_PCI_ISR_OFF && r.vp.bar_on && r.vp.bar_addr == BAR)
				CHECK((v & 0xff) <= 3);
			break;
		case 3:		/* BAR write */
		case 9:
			off = bar_offset(&in, op >> 4);
			len = 1u << (take8(&in) % 4);
			bar_wr(&r, off, len, take64(&in));
			break;
		case 4:		/* the guest writes RAM: rings, requests */
		{
			uint16_t at = take16(&in);
			size_t n8 = take8(&in);

			if (n8 > in.left)
				n8 = in.left;
			if (n8 > RAM_SIZE - at)
				n8 = RAM_SIZE - at;
			memcpy(r.ram + at, in.p, n8);
			in.p += n8;
			in.left -= n8;
			break;
		}
		case 5:
			run_loop(&r);
			break;
		case 6:
			bring_up(&r, &in);
			break;
		case 7:		/* doorbell, then what the device thread does */
			bar_wr(&r, VIRTIO_PCI_NOTIFY_OFF + 4u * (take8(&in) % 4), 2, 0);
			run_loop(&r);
			break;
		case 8:		/* backend input */
			len = take16(&in) % sizeof(pkt);
			if (r.kind == K_NET && r.net_peer >= 0) {
				if (send(r.net_peer, pkt, len, MSG_DONTWAIT) < 0 && errno != EAGAIN)
					CHECK(errno == ENOBUFS);
				run_loop(&r);
			} else if (r.kind == K_CONSOLE) {
				size_t took = virtio_console_receive(&r.d, pkt, len);

				CHECK(took <= len);
				run_loop(&r);
			}
			break;
		}
	}
	run_loop(&r);
	CHECK(!r.d.thread_running);
	rig_close(&r);
	return 0;
}
