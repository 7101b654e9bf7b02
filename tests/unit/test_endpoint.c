/*
 * Endpoint config space and MSI-X: BAR sizing and decode tracking as the
 * guest writes the command register and BARs, the ROM, capability chains,
 * and the MSI-X table, masking and PBA as the platform sees them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pci/endpoint.h"
#include "pci/msix.h"

struct map_event {
	unsigned int bar;
	uint64_t addr;
	bool on;
};

static struct map_event events[32];
static unsigned int nr_events;

static void record_map(void *opaque, unsigned int bar, uint64_t addr, bool on)
{
	(void)opaque;
	if (nr_events < 32)
		events[nr_events++] = (struct map_event){ bar, addr, on };
}

static const struct pci_endpoint_ops rec_ops = { .bar_map = record_map };

static void make_func(struct pci_func *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = PCI_FUNC_ENDPOINT;
	f->vendor = 0x1af4;
	f->device = 0x1042;
	f->class_code = 0x018000;
	f->intx_pin = 1;
	f->gsi = 16;
	f->bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM64, .size = 0x4000, .addr = 0xc0004000 };
	f->bars[2] = (struct pci_bar){ .type = PCI_BAR_IO, .size = 0x20, .addr = 0x1020 };
	f->bars[3] = (struct pci_bar){ .type = PCI_BAR_MEM32, .prefetchable = true,
				       .size = 0x100000, .addr = 0xc0100000 };
	f->bars[4] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true,
				       .size = 1ULL << 33, .addr = 0x800000000ULL };
	f->rom = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 0x10000, .addr = 0xc0200000 };
}

static void test_header_and_bars(void **state)
{
	struct pci_endpoint ep;
	struct pci_func f;
	uint64_t a;

	(void)state;
	make_func(&f);
	pci_endpoint_init(&ep, &f, &rec_ops, NULL);
	assert_int_equal(pci_endpoint_read(&ep, 0x00, 4), 0x10421af4);
	assert_int_equal(pci_endpoint_read(&ep, 0x0e, 1), 0);
	assert_int_equal(pci_endpoint_read(&ep, 0x3d, 1), 1);
	assert_int_equal(pci_endpoint_read(&ep, 0x10, 4), 0xc0004004);
	assert_int_equal(pci_endpoint_read(&ep, 0x14, 4), 0);
	assert_int_equal(pci_endpoint_read(&ep, 0x18, 4), 0x1021);
	assert_int_equal(pci_endpoint_read(&ep, 0x1c, 4), 0xc0100008);
	assert_int_equal(pci_endpoint_read(&ep, 0x20, 4), 0x0000000c);
	assert_int_equal(pci_endpoint_read(&ep, 0x24, 4), 0x8);
	/* The ROM is assigned but off, as firmware leaves it. */
	assert_int_equal(pci_endpoint_read(&ep, 0x30, 4), 0xc0200000);
	assert_true(pci_endpoint_mapped(&ep, 0, &a));
	assert_int_equal(a, 0xc0004000);
	assert_true(pci_endpoint_mapped(&ep, 4, &a));
	assert_int_equal(a, 0x800000000ULL);
	assert_false(pci_endpoint_mapped(&ep, PCI_ROM_BAR, &a));
	assert_int_equal(pci_endpoint_read(&ep, 0x04, 2) & 3, 3);
	pci_endpoint_free(&ep);
}

static void test_sizing_and_moves(void **state)
{
	struct pci_endpoint ep;
	struct pci_func f;
	uint64_t a;

	(void)state;
	make_func(&f);
	nr_events = 0;
	pci_endpoint_init(&ep, &f, &rec_ops, NULL);
	/* Linux turns decoding off, sizes, restores, turns it on. */
	pci_endpoint_write(&ep, 0x04, 2, 0);
	assert_int_equal(nr_events, 4);
	for (unsigned int i = 0; i < 4; i++)
		assert_false(events[i].on);
	nr_events = 0;
	pci_endpoint_write(&ep, 0x10, 4, 0xffffffff);
	pci_endpoint_write(&ep, 0x14, 4, 0xffffffff);
	assert_int_equal(pci_endpoint_read(&ep, 0x10, 4), 0xffffc004);
	assert_int_equal(pci_endpoint_read(&ep, 0x14, 4), 0xffffffff);
	pci_endpoint_write(&ep, 0x18, 4, 0xffffffff);
	assert_int_equal(pci_endpoint_read(&ep, 0x18, 4), 0xffffffe1);
	pci_endpoint_write(&ep, 0x20, 4, 0xffffffff);
	pci_endpoint_write(&ep, 0x24, 4, 0xffffffff);
	assert_int_equal(pci_endpoint_read(&ep, 0x20, 4), 0x0000000c);
	assert_int_equal(pci_endpoint_read(&ep, 0x24, 4), 0xfffffffe);
	pci_endpoint_write(&ep, 0x30, 4, 0xffffffff);
	assert_int_equal(pci_endpoint_read(&ep, 0x30, 4), 0xffff0001);
	assert_int_equal(nr_events, 0);		/* no decode while sizing */
	/* BAR 0 moves; decode back on. */
	pci_endpoint_write(&ep, 0x10, 4, 0xc0008000);
	pci_endpoint_write(&ep, 0x14, 4, 0);
	pci_endpoint_write(&ep, 0x18, 4, 0x1040);
	pci_endpoint_write(&ep, 0x20, 4, 0);
	pci_endpoint_write(&ep, 0x24, 4, 0x8);
	pci_endpoint_write(&ep, 0x30, 4, 0xc0200000);
	pci_endpoint_write(&ep, 0x04, 2, 0x2);	/* memory only */
	assert_true(pci_endpoint_mapped(&ep, 0, &a));
	assert_int_equal(a, 0xc0008000);
	assert_false(pci_endpoint_mapped(&ep, 2, &a));	/* I/O decode off */
	assert_false(pci_endpoint_mapped(&ep, PCI_ROM_BAR, &a));
	pci_endpoint_write(&ep, 0x30, 4, 0xc0200001);
	assert_true(pci_endpoint_mapped(&ep, PCI_ROM_BAR, &a));
	assert_int_equal(a, 0xc0200000);
	/* Moving a decoding BAR: off at the old place, on at the new. */
	nr_events = 0;
	pci_endpoint_write(&ep, 0x10, 4, 0xc000c004);
	assert_int_equal(nr_events, 2);
	assert_false(events[0].on);
	assert_int_equal(events[0].addr, 0xc0008000);
	assert_true(events[1].on);
	assert_int_equal(events[1].addr, 0xc000c000);
	/* Odd sizes and offsets past the end change nothing and read ones. */
	pci_endpoint_write(&ep, 0x10, 3, 0);
	assert_int_equal(pci_endpoint_read(&ep, 0x10, 4), 0xc000c004);
	assert_int_equal(pci_endpoint_read(&ep, 0xffe, 4), 0xffff0000);	/* the tail past 4 KiB: ones */
	pci_endpoint_write(&ep, 0xfff, 4, 0);
	/* Read-only identity. */
	pci_endpoint_write(&ep, 0x00, 4, 0);
	assert_int_equal(pci_endpoint_read(&ep, 0x00, 4), 0x10421af4);
	pci_endpoint_free(&ep);
}

static void test_caps(void **state)
{
	struct pci_endpoint ep;
	struct pci_func f;
	int a, b;

	(void)state;
	make_func(&f);
	pci_endpoint_init(&ep, &f, NULL, NULL);
	assert_int_equal(pci_endpoint_find_cap(&ep, PCI_CAP_ID_MSIX), 0);
	a = pci_endpoint_add_cap(&ep, PCI_CAP_ID_VNDR, 17);
	b = pci_endpoint_add_cap(&ep, PCI_CAP_ID_MSIX, 12);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x54);		/* aligned to 4 after 17 bytes */
	assert_true(pci_endpoint_read(&ep, 0x06, 2) & 0x10);
	assert_int_equal(pci_endpoint_read(&ep, 0x34, 1), 0x40);
	assert_int_equal(pci_endpoint_read(&ep, 0x41, 1), 0x54);
	assert_int_equal(pci_endpoint_find_cap(&ep, PCI_CAP_ID_MSIX), 0x54);
	assert_int_equal(pci_endpoint_add_cap(&ep, PCI_CAP_ID_VNDR, 200), -ENOSPC);
	/* A guest cannot rewrite the list. */
	pci_endpoint_write(&ep, 0x34, 1, 0x44);
	pci_endpoint_write(&ep, 0x41, 1, 0x40);
	assert_int_equal(pci_endpoint_find_cap(&ep, PCI_CAP_ID_MSIX), 0x54);
	pci_endpoint_free(&ep);
}

/* MSI-X: a recording platform. */
struct msi_rec {
	unsigned int updates;
	unsigned int vec;
	struct msi_msg msg;
	bool masked;
	bool pending[8];
};

static int rec_update(void *opaque, unsigned int vec, const struct msi_msg *msg, bool masked)
{
	struct msi_rec *r = opaque;

	r->updates++;
	r->vec = vec;
	r->msg = *msg;
	r->masked = masked;
	return 0;
}

static bool rec_pending(void *opaque, unsigned int vec)
{
	struct msi_rec *r = opaque;

	return vec < 8 && r->pending[vec];
}

static const struct msi_ops rec_msi_ops = { .update = rec_update, .pending = rec_pending };

struct msix_fixture {
	struct pci_endpoint ep;
	struct msix x;
	struct msi_rec rec;
};

static void msix_written(void *opaque, unsigned int reg, unsigned int len)
{
	struct msix_fixture *fx = opaque;

	msix_cfg_written(&fx->x, reg, len);
}

static const struct pci_endpoint_ops msix_ep_ops = { .cfg_written = msix_written };

static int msix_setup(void **state)
{
	struct msix_fixture *fx = calloc(1, sizeof(*fx));
	struct msi_port port = { .ops = &rec_msi_ops };
	struct pci_func f;

	make_func(&f);
	port.opaque = &fx->rec;
	pci_endpoint_init(&fx->ep, &f, &msix_ep_ops, fx);
	assert_int_equal(msix_init(&fx->x, &fx->ep, 5, 0, 0x2000, 0, 0x3000, &port), 0);
	*state = fx;
	return 0;
}

static int msix_teardown(void **state)
{
	struct msix_fixture *fx = *state;

	msix_free(&fx->x);
	pci_endpoint_free(&fx->ep);
	free(fx);
	return 0;
}

static void test_msix_capability(void **state)
{
	struct msix_fixture *fx = *state;
	unsigned int cap = pci_endpoint_find_cap(&fx->ep, PCI_CAP_ID_MSIX);

	assert_int_not_equal(cap, 0);
	assert_int_equal(pci_endpoint_read(&fx->ep, cap + 2, 2), 4);	/* table size - 1 */
	assert_int_equal(pci_endpoint_read(&fx->ep, cap + 4, 4), 0x2000);
	assert_int_equal(pci_endpoint_read(&fx->ep, cap + 8, 4), 0x3000);
	/* Only enable and function mask are writable. */
	pci_endpoint_write(&fx->ep, cap + 2, 2, 0xffff);
	assert_int_equal(pci_endpoint_read(&fx->ep, cap + 2, 2), 0xc004);
	pci_endpoint_write(&fx->ep, cap + 4, 4, 0x1234);
	assert_int_equal(pci_endpoint_read(&fx->ep, cap + 4, 4), 0x2000);
	assert_true(msix_enabled(&fx->x));
}

static void test_msix_masking(void **state)
{
	struct msix_fixture *fx = *state;
	unsigned int cap = pci_endpoint_find_cap(&fx->ep, PCI_CAP_ID_MSIX);

	/* Every vector starts masked. */
	assert_int_equal(msix_table_read(&fx->x, 3 * 16 + 12, 4), 1);
	/* Program vector 3 while MSI-X is off: nothing reaches the platform. */
	msix_table_write(&fx->x, 3 * 16, 0xfee01000, 4);
	msix_table_write(&fx->x, 3 * 16 + 4, 0, 4);
	msix_table_write(&fx->x, 3 * 16 + 8, 0x4041, 4);
	msix_table_write(&fx->x, 3 * 16 + 12, 0, 4);
	assert_int_equal(fx->rec.updates, 0);
	/* Enable: vector 3 is live now. */
	pci_endpoint_write(&fx->ep, cap + 2, 2, 0x8000);
	assert_int_equal(fx->rec.updates, 1);
	assert_int_equal(fx->rec.vec, 3);
	assert_false(fx->rec.masked);
	assert_int_equal(fx->rec.msg.addr, 0xfee01000);
	assert_int_equal(fx->rec.msg.data, 0x4041);
	/* Function mask masks it; clearing it unmasks. */
	pci_endpoint_write(&fx->ep, cap + 2, 2, 0xc000);
	assert_int_equal(fx->rec.updates, 2);
	assert_true(fx->rec.masked);
	/* Masked and pending shows in the PBA; unmasked never does. */
	fx->rec.pending[3] = true;
	assert_int_equal(msix_pba_read(&fx->x, 0, 8), 1u << 3);
	pci_endpoint_write(&fx->ep, cap + 2, 2, 0x8000);
	assert_false(fx->rec.masked);
	assert_int_equal(msix_pba_read(&fx->x, 0, 8), 0);
	/* A new message for a live vector reaches the platform. */
	msix_table_write(&fx->x, 3 * 16 + 8, 0x4042, 4);
	assert_int_equal(fx->rec.msg.data, 0x4042);
	assert_false(fx->rec.masked);
	/* Per-vector mask, through a 64-bit write of data + control. */
	msix_table_write(&fx->x, 3 * 16 + 8, 0x100004042ull, 8);
	assert_true(fx->rec.masked);
	assert_int_equal(msix_table_read(&fx->x, 3 * 16 + 8, 8), 0x100004042ull);
	/* Reserved control bits read as zero. */
	msix_table_write(&fx->x, 2 * 16 + 12, 0xfffffffe, 4);
	assert_int_equal(msix_table_read(&fx->x, 2 * 16 + 12, 4), 0);
}

static void test_msix_bad_accesses(void **state)
{
	struct msix_fixture *fx = *state;
	unsigned int before = fx->rec.updates;

	/* Past the table, misaligned, odd sizes: ignored, reads all ones. */
	msix_table_write(&fx->x, 5 * 16, 0, 4);
	msix_table_write(&fx->x, 3 * 16 + 2, 0, 4);
	msix_table_write(&fx->x, 3 * 16 + 12, 0, 2);
	msix_table_write(&fx->x, ~0ull - 3, 0, 4);
	assert_int_equal(msix_table_read(&fx->x, 5 * 16, 4), 0xffffffffffffffffull);
	assert_int_equal(msix_table_read(&fx->x, 1, 4), 0xffffffffffffffffull);
	assert_int_equal(msix_pba_read(&fx->x, 8, 8), 0xffffffffffffffffull);
	assert_int_equal(msix_table_read(&fx->x, 3 * 16 + 12, 4), 1);
	assert_int_equal(fx->rec.updates, before);
	/* Reset masks everything and disables. */
	msix_table_write(&fx->x, 0 * 16 + 12, 0, 4);
	msix_reset(&fx->x);
	assert_false(msix_enabled(&fx->x));
	assert_int_equal(msix_table_read(&fx->x, 12, 4), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_bars),
		cmocka_unit_test(test_sizing_and_moves),
		cmocka_unit_test(test_caps),
		cmocka_unit_test_setup_teardown(test_msix_capability, msix_setup, msix_teardown),
		cmocka_unit_test_setup_teardown(test_msix_masking, msix_setup, msix_teardown),
		cmocka_unit_test_setup_teardown(test_msix_bad_accesses, msix_setup, msix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
