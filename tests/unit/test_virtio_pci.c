/*
 * The virtio-pci transport driven the way Linux's virtio_pci driver drives
 * it, through config space and BAR accesses on an io_bus, with virtio-rng
 * behind it and a recording platform for MSI-X and INTx: capabilities,
 * feature negotiation, queue setup, doorbells, interrupts, the ISR, the
 * PCI config access window, a driver that breaks the rules (NEEDS_RESET),
 * and reset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hw/io.h"
#include "pci/endpoint.h"
#include "virtio/device.h"
#include "virtio/pci.h"
#include "virtio/pci_layout.h"
#include "virtio/rng.h"

#define RAM_GPA		0x100000ull
#define RAM_SIZE	0x100000ull
#define BAR		0xc0000000ull
#define DESC		(RAM_GPA + 0x0000)
#define AVAIL		(RAM_GPA + 0x1000)
#define USED		(RAM_GPA + 0x2000)
#define BUF		(RAM_GPA + 0x8000)
#define QSIZE		16

struct fixture {
	uint8_t *ram;
	struct guest_mem mem;
	struct io_bus bus;
	struct pci_func f;
	struct virtio_device d;
	struct virtio_pci vp;
	unsigned int fired[4];		/* per vector, from the device thread */
	int intx_level;
	unsigned int cc, isr, dev_cfg, notify;	/* BAR offsets from the capabilities */
};

static void rec_fire(void *opaque, unsigned int vec)
{
	struct fixture *x = opaque;

	if (vec < 4)
		__atomic_add_fetch(&x->fired[vec], 1, __ATOMIC_SEQ_CST);
}

static int rec_update(void *opaque, unsigned int vec, const struct msi_msg *m, bool masked)
{
	return 0;
}

static const struct msi_ops rec_ops = { .update = rec_update, .fire = rec_fire };

static void rec_intx(void *opaque, unsigned int gsi, int level)
{
	struct fixture *x = opaque;

	__atomic_store_n(&x->intx_level, level, __ATOMIC_SEQ_CST);
}

static uint64_t bar_rd(struct fixture *x, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	io_bus_read(&x->bus, IO_SPACE_MMIO, BAR + off, len, &v);
	return v;
}

static void bar_wr(struct fixture *x, uint64_t off, unsigned int len, uint64_t v)
{
	io_bus_write(&x->bus, IO_SPACE_MMIO, BAR + off, len, v);
}

static void *gpa(struct fixture *x, uint64_t a)
{
	return x->ram + (a - RAM_GPA);
}

static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct msi_port port = { .ops = &rec_ops };
	struct irq_line intx = { .set = rec_intx, .gsi = 16 };
	char err[256];

	x->ram = calloc(1, RAM_SIZE);
	x->mem.nr = 1;
	x->mem.regions[0] = (struct guest_region){ RAM_GPA, RAM_SIZE, x->ram };
	io_bus_init(&x->bus);
	x->f.kind = PCI_FUNC_ENDPOINT;
	x->f.vendor = VIRTIO_PCI_VENDOR;
	x->f.device = VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_RNG;
	x->f.intx_pin = 1;
	x->f.gsi = 16;
	x->f.msix_vectors = 2;
	x->f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM64, .size = VIRTIO_PCI_BAR_SIZE,
					 .addr = BAR };
	port.opaque = x;
	intx.opaque = x;
	assert_int_equal(virtio_device_prepare(&x->d, "rng0"), 0);
	assert_int_equal(virtio_rng_init(&x->d), 0);
	assert_int_equal(virtio_pci_create(&x->vp, &x->d, &x->f, &x->mem, &x->bus, &port, &intx,
					   NULL, err, sizeof(err)), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	virtio_pci_destroy(&x->vp);
	io_bus_free(&x->bus);
	free(x->ram);
	free(x);
	return 0;
}

/* Walk the vendor capabilities as the driver does. */
static void find_caps(struct fixture *x)
{
	struct pci_endpoint *ep = &x->vp.ep;
	unsigned int at = pci_endpoint_read(ep, 0x34, 1);
	unsigned int seen = 0;

	while (at) {
		if (pci_endpoint_read(ep, at, 1) == PCI_CAP_ID_VNDR) {
			unsigned int type = pci_endpoint_read(ep, at + 3, 1);
			unsigned int off = pci_endpoint_read(ep, at + 8, 4);

			assert_int_equal(pci_endpoint_read(ep, at + 4, 1), 0);	/* BAR 0 */
			if (type == 1)
				x->cc = off;
			else if (type == 2)
				x->notify = off;
			else if (type == 3)
				x->isr = off;
			seen |= 1u << type;
		}
		at = pci_endpoint_read(ep, at + 1, 1);
	}
	/* common, notify, ISR, PCI config access; rng has no device config */
	assert_int_equal(seen, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 5));
}

static uint64_t features(struct fixture *x)
{
	bar_wr(x, x->cc + 0x00, 4, 0);
	uint64_t f = bar_rd(x, x->cc + 0x04, 4);

	bar_wr(x, x->cc + 0x00, 4, 1);
	return f | bar_rd(x, x->cc + 0x04, 4) << 32;
}

static void enable_msix(struct fixture *x)
{
	unsigned int cap = pci_endpoint_find_cap(&x->vp.ep, PCI_CAP_ID_MSIX);

	pci_endpoint_write(&x->vp.ep, cap + 2, 2, 0x8000);
	for (unsigned int v = 0; v < 2; v++) {
		bar_wr(x, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16, 4, 0xfee00000);
		bar_wr(x, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16 + 8, 4, 0x40 + v);
		bar_wr(x, VIRTIO_PCI_MSIX_TABLE_OFF + v * 16 + 12, 4, 0);
	}
}

/* The driver's bring-up; returns the status read back. */
static uint8_t bring_up(struct fixture *x, uint64_t want)
{
	bar_wr(x, x->cc + 0x14, 1, 0);
	bar_wr(x, x->cc + 0x14, 1, 1);
	bar_wr(x, x->cc + 0x14, 1, 3);
	bar_wr(x, x->cc + 0x08, 4, 0);
	bar_wr(x, x->cc + 0x0c, 4, (uint32_t)want);
	bar_wr(x, x->cc + 0x08, 4, 1);
	bar_wr(x, x->cc + 0x0c, 4, (uint32_t)(want >> 32));
	bar_wr(x, x->cc + 0x14, 1, 3 | 8);
	if (!(bar_rd(x, x->cc + 0x14, 1) & 8))
		return (uint8_t)bar_rd(x, x->cc + 0x14, 1);
	bar_wr(x, x->cc + 0x10, 2, 0);			/* config vector */
	bar_wr(x, x->cc + 0x16, 2, 0);			/* queue 0 */
	assert_int_equal(bar_rd(x, x->cc + 0x18, 2), 64);	/* rng's maximum */
	bar_wr(x, x->cc + 0x18, 2, QSIZE);
	bar_wr(x, x->cc + 0x1a, 2, 1);
	assert_int_equal(bar_rd(x, x->cc + 0x1a, 2), 1);
	bar_wr(x, x->cc + 0x20, 8, DESC);		/* one 64-bit access */
	bar_wr(x, x->cc + 0x28, 4, (uint32_t)AVAIL);	/* two halves */
	bar_wr(x, x->cc + 0x2c, 4, 0);
	bar_wr(x, x->cc + 0x30, 4, (uint32_t)USED);
	bar_wr(x, x->cc + 0x34, 4, 0);
	bar_wr(x, x->cc + 0x1c, 2, 1);
	bar_wr(x, x->cc + 0x14, 1, 3 | 8 | 4);
	return (uint8_t)bar_rd(x, x->cc + 0x14, 1);
}

static uint16_t used_idx(struct fixture *x)
{
	return __atomic_load_n((uint16_t *)gpa(x, USED + 2), __ATOMIC_ACQUIRE);
}

/* Offer one buffer of len bytes at addr, ring the doorbell, wait for it to be used. */
static bool offer_and_wait(struct fixture *x, uint64_t addr, uint32_t len, uint16_t n)
{
	uint8_t *desc = gpa(x, DESC + (n % QSIZE) * 16);
	uint16_t *avail = gpa(x, AVAIL);

	memcpy(desc, &addr, 8);
	memcpy(desc + 8, &len, 4);
	desc[12] = 2;				/* WRITE */
	desc[13] = 0;
	avail[2 + n % QSIZE] = n % QSIZE;
	__atomic_store_n(&avail[1], (uint16_t)(n + 1), __ATOMIC_RELEASE);
	bar_wr(x, x->notify, 2, 0);
	for (int i = 0; i < 2000; i++) {
		if (used_idx(x) == (uint16_t)(n + 1) ||
		    (bar_rd(x, x->cc + 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET))
			return used_idx(x) == (uint16_t)(n + 1);
		usleep(1000);
	}
	return false;
}

static void test_negotiation(void **state)
{
	struct fixture *x = *state;
	uint64_t f;

	find_caps(x);
	f = features(x);
	assert_true(f >> VIRTIO_F_VERSION_1 & 1);
	assert_true(f >> VIRTIO_F_EVENT_IDX & 1);
	assert_true(f >> VIRTIO_F_INDIRECT_DESC & 1);
	assert_int_equal(bar_rd(x, x->cc + 0x12, 2), 1);	/* one queue */
	/* A bit we do not offer, or no VERSION_1: FEATURES_OK does not stick. */
	assert_false(bring_up(x, 1ull << VIRTIO_F_VERSION_1 | 1ull << 40) & 8);
	assert_false(bring_up(x, 1ull << VIRTIO_F_EVENT_IDX) & 8);
	assert_int_equal(bring_up(x, 1ull << VIRTIO_F_VERSION_1), 1 | 2 | 4 | 8);
}

static void test_entropy_by_msix(void **state)
{
	struct fixture *x = *state;
	uint8_t zero[64] = { 0 };

	find_caps(x);
	enable_msix(x);
	assert_int_equal(bring_up(x, 1ull << VIRTIO_F_VERSION_1), 15);
	assert_true(offer_and_wait(x, BUF, 64, 0));
	assert_int_equal(*(uint32_t *)gpa(x, USED + 4 + 4), 64);	/* used len */
	assert_memory_not_equal(gpa(x, BUF), zero, 64);
	for (int i = 0; i < 1000 && !__atomic_load_n(&x->fired[1], __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(x->fired[1], 1);			/* the queue's vector */
	assert_int_equal(x->fired[0], 0);
	assert_int_equal(x->intx_level, 0);
	assert_int_equal(x->vp.kicks, 1);			/* no ioeventfd: it trapped */
	/* Again, wrapping round the ring. */
	for (uint16_t n = 1; n < 40; n++)
		assert_true(offer_and_wait(x, BUF + n * 64, 64, n));
	assert_int_equal(virtio_pci_used(&x->vp), 40);
	/* The count survives a reset of the device. */
	bar_wr(x, x->cc + 0x14, 1, 0);
	assert_int_equal(virtio_pci_used(&x->vp), 40);
}

static void test_entropy_by_intx(void **state)
{
	struct fixture *x = *state;

	find_caps(x);
	assert_int_equal(bring_up(x, 1ull << VIRTIO_F_VERSION_1), 15);
	assert_true(offer_and_wait(x, BUF, 32, 0));
	for (int i = 0; i < 1000 && !__atomic_load_n(&x->intx_level, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(x->intx_level, 1);
	assert_int_equal(bar_rd(x, x->isr, 1), 1);		/* queue interrupt */
	assert_int_equal(x->intx_level, 0);			/* read to clear */
	assert_int_equal(bar_rd(x, x->isr, 1), 0);
}

/*
 * The broken-driver warning: the first at once, then at most one per 5 s,
 * which counts the breaks it did not print. What stderr got is checked.
 */
static void test_broken_warning_rate_limited(void **state)
{
	struct virtio_device d = { .name = "dev0" };
	char out[2048] = "";
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	(void)state;
	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	virtio_device_broken(&d, "first %d", 1);
	virtio_device_broken(&d, "second");
	virtio_device_broken(&d, "third");
	assert_int_equal(d.warn_suppressed, 2);
	assert_true(d.warn_time_ns > 6000000000ull);
	d.warn_time_ns -= 6000000000ull;	/* as if 6 s had passed */
	virtio_device_broken(&d, "fourth");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(d.warn_suppressed, 0);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	assert_non_null(strstr(out, "dev0: the driver broke the virtio rules: first 1; "
				    "device needs a reset\n"));
	assert_non_null(strstr(out, "dev0: the driver broke the virtio rules: fourth "
				    "(and 2 more since)\n"));
	assert_null(strstr(out, "second"));
	assert_null(strstr(out, "third"));
}

static void test_broken_driver(void **state)
{
	struct fixture *x = *state;

	find_caps(x);
	enable_msix(x);
	assert_int_equal(bring_up(x, 1ull << VIRTIO_F_VERSION_1), 15);
	/* A buffer outside guest RAM. */
	assert_false(offer_and_wait(x, 0x40000000ull, 64, 0));
	assert_true(bar_rd(x, x->cc + 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	for (int i = 0; i < 1000 && !__atomic_load_n(&x->fired[0], __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(x->fired[0], 1);			/* config change */
	/* A broken device takes no more requests... */
	memset(gpa(x, USED), 0, 8);
	bar_wr(x, x->notify, 2, 0);
	usleep(20000);
	assert_int_equal(used_idx(x), 0);
	/* ...until the driver resets it. */
	memset(gpa(x, AVAIL), 0, 0x100);
	assert_int_equal(bring_up(x, 1ull << VIRTIO_F_VERSION_1), 15);
	assert_true(offer_and_wait(x, BUF, 16, 0));
}

static void test_bad_queue_setup(void **state)
{
	struct fixture *x = *state;

	find_caps(x);
	bar_wr(x, x->cc + 0x14, 1, 0);
	bar_wr(x, x->cc + 0x14, 1, 3);
	bar_wr(x, x->cc + 0x0c, 4, 0);
	bar_wr(x, x->cc + 0x08, 4, 1);
	bar_wr(x, x->cc + 0x0c, 4, 1);
	bar_wr(x, x->cc + 0x14, 1, 11);
	/* Queue size not a power of two, rings outside RAM: refused, no crash. */
	bar_wr(x, x->cc + 0x16, 2, 0);
	bar_wr(x, x->cc + 0x18, 2, 24);
	bar_wr(x, x->cc + 0x20, 8, 0xffffffffffff0000ull);
	bar_wr(x, x->cc + 0x1c, 2, 1);
	assert_int_equal(bar_rd(x, x->cc + 0x1c, 2), 0);
	assert_true(bar_rd(x, x->cc + 0x14, 1) & VIRTIO_STATUS_NEEDS_RESET);
	/* Vectors beyond the table read back as NO_VECTOR; a queue past the last reads 0. */
	bar_wr(x, x->cc + 0x10, 2, 7);
	assert_int_equal(bar_rd(x, x->cc + 0x10, 2), VIRTIO_PCI_NO_VECTOR);
	bar_wr(x, x->cc + 0x16, 2, 5);
	assert_int_equal(bar_rd(x, x->cc + 0x18, 2), 0);
	bar_wr(x, x->cc + 0x1c, 2, 1);
	/* Odd offsets and sizes anywhere in the BAR. */
	for (uint64_t off = 0; off < VIRTIO_PCI_BAR_SIZE; off += 0x7f) {
		bar_rd(x, off, 1);
		bar_wr(x, off, 8, ~0ull);
	}
	bar_wr(x, x->cc + 0x14, 1, 0);
	assert_int_equal(bar_rd(x, x->cc + 0x14, 1), 0);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *x = *state;
	struct pci_endpoint *ep = &x->vp.ep;
	unsigned int at = pci_endpoint_read(ep, 0x34, 1);

	find_caps(x);
	while (at && !(pci_endpoint_read(ep, at, 1) == PCI_CAP_ID_VNDR &&
		       pci_endpoint_read(ep, at + 3, 1) == 5))
		at = pci_endpoint_read(ep, at + 1, 1);
	assert_int_not_equal(at, 0);
	/* num_queues through the window, then a status write through it. */
	pci_endpoint_write(ep, at + 4, 1, 0);
	pci_endpoint_write(ep, at + 8, 4, x->cc + 0x12);
	pci_endpoint_write(ep, at + 12, 4, 2);
	assert_int_equal(pci_endpoint_read(ep, at + 16, 2), 1);
	pci_endpoint_write(ep, at + 8, 4, x->cc + 0x14);
	pci_endpoint_write(ep, at + 12, 4, 1);
	pci_endpoint_write(ep, at + 16, 1, 1);
	assert_int_equal(bar_rd(x, x->cc + 0x14, 1), 1);
	/* A window past the BAR reads nothing from it. */
	pci_endpoint_write(ep, at + 8, 4, 0x10000);
	pci_endpoint_read(ep, at + 16, 4);
}

static void test_bar_moves(void **state)
{
	struct fixture *x = *state;

	find_caps(x);
	assert_int_equal(bar_rd(x, x->cc + 0x12, 2), 1);
	pci_endpoint_write(&x->vp.ep, 0x04, 2, 0);		/* decode off */
	assert_null(io_bus_find(&x->bus, IO_SPACE_MMIO, BAR));
	pci_endpoint_write(&x->vp.ep, 0x10, 4, 0xd0000000);
	pci_endpoint_write(&x->vp.ep, 0x04, 2, 2);
	assert_null(io_bus_find(&x->bus, IO_SPACE_MMIO, BAR));
	assert_non_null(io_bus_find(&x->bus, IO_SPACE_MMIO, 0xd0000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entropy_by_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entropy_by_intx, setup, teardown),
		cmocka_unit_test(test_broken_warning_rate_limited),
		cmocka_unit_test_setup_teardown(test_broken_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moves, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
