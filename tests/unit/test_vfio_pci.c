/*
 * Passthrough config space virtualisation against a fake VFIO device: BARs,
 * ROM, capability filtering and write policy, MSI, MSI-X, INTx, the trapped
 * BAR pages, reset, and a hostile guest; then the fixture host's functions
 * (tests/fixtures/host: their config and resource files), planned through the
 * host inventory and the planner, against what their files say.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vfio/pci_dev.h"
#include "vmm/plan.h"

#define FAKE_VENDOR	0x8086
#define FAKE_DEVICE	0x10d3

#define CAP_PM		0x40
#define CAP_MSI		0x50
#define CAP_MSIX	0x70
#define CAP_EXP		0x80
#define CAP_VNDR	0xc0
#define CAP_HIDDEN	0xd0		/* PCI Advanced Features: not kept */
#define DEV_REG		0xf0		/* a device register outside any capability */

#define BAR0_SIZE	0x4000
#define BAR2_SIZE	0x20
#define BAR3_SIZE	0x800		/* smaller than the page the plan gives it */
#define TABLE_OFF	0x2000
#define PBA_OFF		0x3000
#define MSIX_VECS	16
#define ROM_REGION	0x3000

struct cfg_write_rec {
	unsigned int off, len;
	uint8_t data[8];
};

struct irq_rec {
	enum vfio_pci_irq index;
	unsigned int count;
	int fds[MSIX_VECS];
};

struct region_rec {
	unsigned int region;
	uint64_t off;
	unsigned int len;
	bool write;
};

struct fake_dev {
	uint8_t cfg[4096];
	uint8_t bar0[BAR0_SIZE], bar2[BAR2_SIZE], bar3[BAR3_SIZE];
	uint8_t rom[ROM_REGION];
	uint64_t rom_size;
	struct cfg_write_rec cw[64];
	unsigned int nr_cw;
	struct irq_rec irqs[16];
	unsigned int nr_irqs;
	int intx_trigger, intx_resample;
	unsigned int intx_calls;
	unsigned int resets;
	struct region_rec ro[32];
	unsigned int nr_ro;
	int irqs_error;			/* what set_irqs returns for a non-zero count */
	uint64_t bar0_region;		/* region size reported for BAR0 */
	/* A fixture host function: its regions' sizes, nothing behind its BARs, its ROM. */
	bool fixture;
	uint64_t fixture_size[VFIO_PCI_DEV_ROM_REGION + 1];
	uint8_t *fixture_rom;		/* fixture_size[VFIO_PCI_DEV_ROM_REGION] bytes */
};

static struct fake_dev fd_;

static uint8_t *region_mem(unsigned int region, uint64_t *size)
{
	if (fd_.fixture) {
		*size = region <= VFIO_PCI_DEV_ROM_REGION ? fd_.fixture_size[region] : 0;
		return region == VFIO_PCI_DEV_ROM_REGION ? fd_.fixture_rom : NULL;
	}
	switch (region) {
	case 0:
		*size = BAR0_SIZE;
		return fd_.bar0;
	case 2:
		*size = BAR2_SIZE;
		return fd_.bar2;
	case 3:
		*size = BAR3_SIZE;
		return fd_.bar3;
	case VFIO_PCI_DEV_ROM_REGION:
		*size = fd_.rom_size;
		return fd_.rom;
	default:
		*size = 0;
		return NULL;
	}
}

static int fake_cfg_read(void *dev, unsigned int off, void *buf, unsigned int len)
{
	(void)dev;
	if (off > sizeof(fd_.cfg) || len > sizeof(fd_.cfg) - off)
		return -EINVAL;
	memcpy(buf, fd_.cfg + off, len);
	return 0;
}

static int fake_cfg_write(void *dev, unsigned int off, const void *buf, unsigned int len)
{
	(void)dev;
	if (off > sizeof(fd_.cfg) || len > sizeof(fd_.cfg) - off || len > 8)
		return -EINVAL;
	memcpy(fd_.cfg + off, buf, len);
	if (fd_.nr_cw < 64) {
		fd_.cw[fd_.nr_cw].off = off;
		fd_.cw[fd_.nr_cw].len = len;
		memcpy(fd_.cw[fd_.nr_cw].data, buf, len);
		fd_.nr_cw++;
	}
	return 0;
}

static uint64_t fake_region_size(void *dev, unsigned int region)
{
	uint64_t size;

	(void)dev;
	if (region == 0 && fd_.bar0_region)
		return fd_.bar0_region;
	region_mem(region, &size);
	return size;
}

static void record_region(unsigned int region, uint64_t off, unsigned int len, bool write)
{
	if (fd_.nr_ro < 32)
		fd_.ro[fd_.nr_ro++] = (struct region_rec){ region, off, len, write };
}

static int fake_region_read(void *dev, unsigned int region, uint64_t off, void *buf,
			    unsigned int len)
{
	uint64_t size;
	uint8_t *m = region_mem(region, &size);

	(void)dev;
	record_region(region, off, len, false);
	if (!m || off > size || len > size - off)
		return -EINVAL;
	memcpy(buf, m + off, len);
	return 0;
}

static int fake_region_write(void *dev, unsigned int region, uint64_t off, const void *buf,
			     unsigned int len)
{
	uint64_t size;
	uint8_t *m = region_mem(region, &size);

	(void)dev;
	record_region(region, off, len, true);
	if (!m || off > size || len > size - off)
		return -EINVAL;
	memcpy(m + off, buf, len);
	return 0;
}

static int fake_set_irqs(void *dev, enum vfio_pci_irq index, unsigned int count, const int *fds)
{
	struct irq_rec *r;

	(void)dev;
	if (fd_.nr_irqs >= 16)
		return -ENOSPC;
	if (count && fd_.irqs_error) {
		fd_.nr_irqs++;
		return fd_.irqs_error;
	}
	r = &fd_.irqs[fd_.nr_irqs++];
	r->index = index;
	r->count = count;
	for (unsigned int i = 0; i < count && i < MSIX_VECS; i++)
		r->fds[i] = fds[i];
	return 0;
}

static int fake_set_intx(void *dev, int trigger, int resample)
{
	(void)dev;
	fd_.intx_trigger = trigger;
	fd_.intx_resample = resample;
	fd_.intx_calls++;
	return 0;
}

static int fake_reset(void *dev)
{
	(void)dev;
	fd_.resets++;
	return 0;
}

static const struct vfio_dev_ops fake_ops = {
	.cfg_read = fake_cfg_read,
	.cfg_write = fake_cfg_write,
	.region_size = fake_region_size,
	.region_read = fake_region_read,
	.region_write = fake_region_write,
	.set_irqs = fake_set_irqs,
	.set_intx = fake_set_intx,
	.reset = fake_reset,
};

/* ---- the platform ---- */

struct update_rec {
	unsigned int vec;
	struct msi_msg msg;
	bool masked;
};

struct map_rec {
	unsigned int bar;
	uint64_t addr;
	bool on;
};

static struct update_rec updates[128];
static unsigned int nr_updates;
static bool pending[64];
static struct map_rec maps[32];
static unsigned int nr_maps;

static int plat_update(void *opaque, unsigned int vec, const struct msi_msg *msg, bool masked)
{
	(void)opaque;
	if (nr_updates < 128)
		updates[nr_updates++] = (struct update_rec){ vec, *msg, masked };
	return 0;
}

static bool plat_pending(void *opaque, unsigned int vec)
{
	(void)opaque;
	return vec < 64 && pending[vec];
}

static int plat_eventfd(void *opaque, unsigned int vec)
{
	(void)opaque;
	return 100 + (int)vec;
}

static const struct msi_ops plat_msi = {
	.update = plat_update,
	.pending = plat_pending,
	.eventfd = plat_eventfd,
};

static void plat_bar_map(void *opaque, unsigned int bar, uint64_t addr, bool on)
{
	(void)opaque;
	if (nr_maps < 32)
		maps[nr_maps++] = (struct map_rec){ bar, addr, on };
}

static int plat_intx(void *opaque, int *trigger, int *resample)
{
	(void)opaque;
	*trigger = 7;
	*resample = 8;
	return 0;
}

static const struct vfio_pci_platform plat = {
	.bar_map = plat_bar_map,
	.intx_fds = plat_intx,
	.msi = { .ops = &plat_msi },
};

/* ---- the fixture ---- */

static void put16(uint8_t *p, unsigned int off, uint16_t v)
{
	pci_put16(p, off, v);
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	pci_put32(p, off, v);
}

/*
 * A PCIe endpoint: BAR0 64-bit memory (MSI-X table and PBA in it), BAR2
 * I/O, BAR3 32-bit prefetchable; PM, MSI (64-bit, maskable, 8 vectors),
 * MSI-X, PCIe, vendor and an unsupported capability; SR-IOV, ReBAR and ARI
 * extended capabilities.
 */
static void fake_init(void)
{
	uint8_t *c = fd_.cfg;

	memset(&fd_, 0, sizeof(fd_));
	fd_.intx_trigger = fd_.intx_resample = -1;
	put16(c, 0x00, FAKE_VENDOR);
	put16(c, 0x02, FAKE_DEVICE);
	put16(c, 0x06, 0x0010 | 0x0008);	/* caps, interrupt status */
	put32(c, 0x08, 0x02000003);
	put32(c, 0x10, 0xfe000004);
	put32(c, 0x14, 0);
	put32(c, 0x18, 0xe001);
	put32(c, 0x1c, 0xfd000008);
	c[0x3d] = 1;
	c[0x34] = CAP_PM;

	c[CAP_PM] = PCI_CAP_ID_PM;
	c[CAP_PM + 1] = CAP_MSI;
	put16(c, CAP_PM + 2, 0x0003);
	put16(c, CAP_PM + 4, 0x0008);

	c[CAP_MSI] = PCI_CAP_ID_MSI;
	c[CAP_MSI + 1] = CAP_MSIX;
	put16(c, CAP_MSI + 2, 0x0180 | (3 << 1));	/* maskable, 64-bit, 8 vectors */
	put32(c, CAP_MSI + 4, 0x12345678);		/* stale host values, never shown */

	c[CAP_MSIX] = PCI_CAP_ID_MSIX;
	c[CAP_MSIX + 1] = CAP_EXP;
	put16(c, CAP_MSIX + 2, MSIX_VECS - 1);
	put32(c, CAP_MSIX + 4, TABLE_OFF | 0);
	put32(c, CAP_MSIX + 8, PBA_OFF | 0);

	c[CAP_EXP] = PCI_CAP_ID_EXP;
	c[CAP_EXP + 1] = CAP_VNDR;
	put16(c, CAP_EXP + 2, 0x0002);			/* v2 endpoint */
	put32(c, CAP_EXP + 4, 0x00008fc2);		/* device caps */
	put16(c, CAP_EXP + 8, 0x2810);			/* device control */
	put32(c, CAP_EXP + 0x0c, 0x00437d11);		/* link caps */
	put16(c, CAP_EXP + 0x10, 0x0040);		/* link control */
	put16(c, CAP_EXP + 0x12, 0x1011);		/* link status */

	c[CAP_VNDR] = PCI_CAP_ID_VNDR;
	c[CAP_VNDR + 1] = CAP_HIDDEN;
	c[CAP_VNDR + 2] = 8;
	put32(c, CAP_VNDR + 4, 0xcafef00d);

	c[CAP_HIDDEN] = 0x13;
	c[CAP_HIDDEN + 1] = 0;
	put16(c, CAP_HIDDEN + 2, 0x0306);

	put32(c, DEV_REG, 0xdeadbeef);

	put32(c, 0x100, 0x14010010);			/* SR-IOV v1, next 0x140 */
	put32(c, 0x140, 0x18010015);			/* ReBAR, next 0x180 */
	put32(c, 0x180, 0x0001000e);			/* ARI, last */

	for (unsigned int i = 0; i < BAR0_SIZE; i++)
		fd_.bar0[i] = (uint8_t)(i * 7);
	for (unsigned int i = 0; i < BAR2_SIZE; i++)
		fd_.bar2[i] = (uint8_t)(0x80 + i);
	fd_.rom_size = ROM_REGION;
	fd_.rom[0] = 0x55;
	fd_.rom[1] = 0xaa;
	for (unsigned int i = 2; i < ROM_REGION; i++)
		fd_.rom[i] = (uint8_t)(i ^ 0x5a);

	memset(updates, 0, sizeof(updates));
	nr_updates = 0;
	memset(pending, 0, sizeof(pending));
	nr_maps = 0;
}

static void make_func(struct pci_func *f, bool rom)
{
	memset(f, 0, sizeof(*f));
	f->kind = PCI_FUNC_ENDPOINT;
	f->name = "nic0";
	f->vendor = FAKE_VENDOR;
	f->device = FAKE_DEVICE;
	f->class_code = 0x020000;
	f->intx_pin = 1;
	f->gsi = 17;
	f->bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM64, .size = BAR0_SIZE, .addr = 0xc0000000 };
	f->bars[2] = (struct pci_bar){ .type = PCI_BAR_IO, .size = BAR2_SIZE, .addr = 0x1000 };
	f->bars[3] = (struct pci_bar){ .type = PCI_BAR_MEM32, .prefetchable = true,
				       .size = 0x1000, .addr = 0xc0010000 };
	if (rom)
		f->rom = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 0x4000,
					   .addr = 0xc0020000 };
}

struct ctx {
	struct vfio_pci_dev pd;
	struct pci_func f;
};

static int setup_with(void **state, bool rom, const struct vfio_pci_platform *p)
{
	struct ctx *c = calloc(1, sizeof(*c));
	char err[256] = "";
	int ret;

	if (!c)
		return -1;
	fake_init();
	make_func(&c->f, rom);
	ret = vfio_pci_dev_init(&c->pd, &c->f, &fake_ops, &fd_, p, NULL, err, sizeof(err));
	if (ret) {
		print_error("init: %s\n", err);
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false, &plat);
}

static int setup_rom(void **state)
{
	return setup_with(state, true, &plat);
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vfio_pci_dev_free(&c->pd);
	free(c);
	return 0;
}

static uint32_t rd(struct ctx *c, unsigned int reg, unsigned int len)
{
	return vfio_pci_cfg_read(&c->pd, reg, len);
}

static void wr(struct ctx *c, unsigned int reg, unsigned int len, uint32_t v)
{
	vfio_pci_cfg_write(&c->pd, reg, len, v);
}

/* The last config write the device saw at off, or NULL. */
static const struct cfg_write_rec *dev_write_at(unsigned int off)
{
	for (unsigned int i = fd_.nr_cw; i-- > 0;)
		if (fd_.cw[i].off == off)
			return &fd_.cw[i];
	return NULL;
}

static void forget_device_writes(void)
{
	fd_.nr_cw = 0;
}

/* ---- tests ---- */

static void test_header(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rd(c, 0x00, 4), FAKE_DEVICE << 16 | FAKE_VENDOR);
	wr(c, 0x00, 4, 0x12345678);
	assert_int_equal(rd(c, 0x00, 4), FAKE_DEVICE << 16 | FAKE_VENDOR);
	assert_null(dev_write_at(0x00));
	/* Status comes from the device, the capability bit from our list. */
	assert_int_equal(rd(c, 0x06, 2), 0x0018);
	fd_.cfg[0x06] &= ~0x08;
	assert_int_equal(rd(c, 0x06, 2), 0x0010);
	/* Error bits: the guest's write-1-to-clear reaches the device. */
	wr(c, 0x06, 2, 0xf900);
	assert_non_null(dev_write_at(0x06));
	assert_int_equal(pci_get16(dev_write_at(0x06)->data, 0), 0xf900);
	assert_int_equal(rd(c, 0x3d, 1), 1);
	assert_int_equal(rd(c, 0x3c, 1), 17);
}

static void test_bar_sizing(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(rd(c, 0x10, 4), 0xc0000004);
	assert_int_equal(rd(c, 0x14, 4), 0);
	assert_int_equal(rd(c, 0x18, 4), 0x1001);
	assert_int_equal(rd(c, 0x1c, 4), 0xc0010008);
	assert_int_equal(rd(c, 0x20, 4), 0);

	wr(c, 0x04, 2, 0);			/* decode off while sizing, as Linux does */
	wr(c, 0x10, 4, 0xffffffff);
	wr(c, 0x14, 4, 0xffffffff);
	wr(c, 0x18, 4, 0xffffffff);
	wr(c, 0x1c, 4, 0xffffffff);
	wr(c, 0x20, 4, 0xffffffff);
	assert_int_equal(rd(c, 0x10, 4), (uint32_t)~(BAR0_SIZE - 1) | 0x4);
	assert_int_equal(rd(c, 0x14, 4), 0xffffffff);
	assert_int_equal(rd(c, 0x18, 4), (uint32_t)~(BAR2_SIZE - 1) | 0x1);
	/* BAR3's device region is 2 KiB; the guest sees the page the plan gave it. */
	assert_int_equal(rd(c, 0x1c, 4), 0xfffff008);
	assert_int_equal(rd(c, 0x20, 4), 0);
	/* The guest's BARs never reach the device: the host keeps its own. */
	assert_null(dev_write_at(0x10));
	assert_null(dev_write_at(0x1c));
	assert_int_equal(pci_get32(fd_.cfg, 0x10), 0xfe000004);
}

static void test_decode_moves(void **state)
{
	struct ctx *c = *state;
	const struct cfg_write_rec *w;

	assert_int_equal(nr_maps, 0);
	wr(c, 0x04, 2, 0);
	assert_int_equal(nr_maps, 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_false(maps[i].on);
	/* Decode off in the guest, but the device keeps decoding for the mmaps. */
	w = dev_write_at(0x04);
	assert_non_null(w);
	assert_int_equal(pci_get16(w->data, 0), PCI_COMMAND_MEMORY | PCI_COMMAND_IO);

	nr_maps = 0;
	wr(c, 0x1c, 4, 0xd0000000);
	assert_int_equal(nr_maps, 0);
	wr(c, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(nr_maps, 2);
	assert_int_equal(maps[0].bar, 0);
	assert_int_equal(maps[0].addr, 0xc0000000);
	assert_true(maps[0].on);
	assert_int_equal(maps[1].bar, 3);
	assert_int_equal(maps[1].addr, 0xd0000000);
	assert_true(maps[1].on);
	/* Bus master is forwarded. */
	w = dev_write_at(0x04);
	assert_int_equal(pci_get16(w->data, 0),
			 PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY | PCI_COMMAND_IO);

	/* A BAR moved while decoding: off at the old place, on at the new. */
	nr_maps = 0;
	wr(c, 0x1c, 4, 0xd0100000);
	assert_int_equal(nr_maps, 2);
	assert_false(maps[0].on);
	assert_int_equal(maps[0].addr, 0xd0000000);
	assert_true(maps[1].on);
	assert_int_equal(maps[1].addr, 0xd0100000);
}

static void test_rom_from_device(void **state)
{
	struct ctx *c = *state;
	const uint8_t *rom;
	uint64_t size = 0;

	assert_int_equal(rd(c, 0x30, 4), 0xc0020000);
	wr(c, 0x30, 4, 0xfffff800);
	assert_int_equal(rd(c, 0x30, 4), 0xffffc000);
	wr(c, 0x30, 4, 0xc0020001);
	assert_int_equal(nr_maps, 1);
	assert_int_equal(maps[0].bar, PCI_ROM_BAR);
	assert_int_equal(maps[0].addr, 0xc0020000);
	assert_true(maps[0].on);

	rom = vfio_pci_rom(&c->pd, &size);
	assert_non_null(rom);
	assert_int_equal(size, 0x4000);
	assert_memory_equal(rom, fd_.rom, ROM_REGION);
	/* Past the device's ROM, the padding reads as ones. */
	assert_int_equal(rom[ROM_REGION], 0xff);
	assert_int_equal(rom[0x3fff], 0xff);
	/* Nothing of it is written to the device. */
	assert_null(dev_write_at(0x30));
}

static void test_rom_absent(void **state)
{
	struct ctx *c = *state;
	uint64_t size = 0;

	assert_int_equal(rd(c, 0x30, 4), 0);
	wr(c, 0x30, 4, 0xfffff801);
	assert_int_equal(rd(c, 0x30, 4), 0);
	assert_null(vfio_pci_rom(&c->pd, &size));
	assert_int_equal(nr_maps, 0);
}

static void test_rom_from_file(void **state)
{
	char path[] = "/tmp/test_vfio_romXXXXXX";
	struct vfio_pci_dev pd;
	struct pci_func f;
	const uint8_t *rom;
	uint64_t size = 0;
	char err[256];
	int fd;

	(void)state;
	fake_init();
	make_func(&f, true);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x55\xaa\x10 file rom", 12), 12);
	close(fd);
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, path, err,
					   sizeof(err)), 0);
	unlink(path);
	rom = vfio_pci_rom(&pd, &size);
	assert_non_null(rom);
	assert_int_equal(size, 0x4000);
	assert_memory_equal(rom, "\x55\xaa\x10 file rom", 12);
	assert_int_equal(rom[12], 0xff);
	vfio_pci_dev_free(&pd);

	/* A ROM in the plan but none on the device and no file: an error. */
	fake_init();
	fd_.rom_size = 0;
	err[0] = 0;
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "ROM"));
}

static void test_cap_chain(void **state)
{
	static const uint8_t want[][2] = {
		{ CAP_PM, PCI_CAP_ID_PM }, { CAP_MSI, PCI_CAP_ID_MSI },
		{ CAP_MSIX, PCI_CAP_ID_MSIX }, { CAP_EXP, PCI_CAP_ID_EXP },
		{ CAP_VNDR, PCI_CAP_ID_VNDR },
	};
	struct ctx *c = *state;
	unsigned int at = rd(c, 0x34, 1), n = 0;

	while (at && n < 10) {
		assert_true(n < 5);
		assert_int_equal(at, want[n][0]);
		assert_int_equal(rd(c, at, 1), want[n][1]);
		at = rd(c, at + 1, 1);
		n++;
	}
	assert_int_equal(n, 5);
	/* The unsupported capability is out of the chain and its header reads 0. */
	assert_int_equal(rd(c, CAP_HIDDEN, 2), 0);
	/* Extended capabilities: an empty list. */
	assert_int_equal(rd(c, 0x100, 4), 0);
	assert_int_equal(rd(c, 0x140, 4), 0);
	assert_int_equal(rd(c, 0x180, 4), 0);
	/* Kept capability bodies come from the device... */
	assert_int_equal(rd(c, CAP_EXP + 0x12, 2), 0x1011);
	put16(fd_.cfg, CAP_EXP + 0x12, 0x1012);
	assert_int_equal(rd(c, CAP_EXP + 0x12, 2), 0x1012);
	assert_int_equal(rd(c, CAP_VNDR + 4, 4), 0xcafef00d);
	assert_int_equal(rd(c, CAP_PM + 2, 2), 0x0003);
	/* ...and so do the device's registers outside capabilities. */
	assert_int_equal(rd(c, DEV_REG, 4), 0xdeadbeef);
	/* MSI is ours: the device's stale message is not shown. */
	assert_int_equal(rd(c, CAP_MSI + 4, 4), 0);
	assert_int_equal(rd(c, CAP_MSI + 2, 2), 0x0186);
	assert_int_equal(rd(c, CAP_MSIX + 2, 2), MSIX_VECS - 1);
	assert_int_equal(rd(c, CAP_MSIX + 4, 4), TABLE_OFF);
	assert_int_equal(rd(c, CAP_MSIX + 8, 4), PBA_OFF);
}

static void test_no_caps(void **state)
{
	struct vfio_pci_dev pd;
	struct pci_func f;
	char err[256];

	(void)state;
	fake_init();
	put16(fd_.cfg, 0x06, 0);
	make_func(&f, false);
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0x06, 2) & 0x10, 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0x34, 1), 0);
	/* Without a list, 0x40 on is the device's own registers: read, never written. */
	assert_int_equal(vfio_pci_cfg_read(&pd, CAP_PM, 4), pci_get32(fd_.cfg, CAP_PM));
	vfio_pci_cfg_write(&pd, CAP_PM + 4, 2, 0);
	assert_null(dev_write_at(CAP_PM + 4));
	vfio_pci_dev_free(&pd);
}

/* A PCIe v1 endpoint capability high in config space (QEMU's e1000e has one at 0xe0). */
static void test_pcie_v1_high(void **state)
{
	struct vfio_pci_dev pd;
	struct pci_func f;
	char err[256];
	uint8_t *c = fd_.cfg;

	(void)state;
	fake_init();
	make_func(&f, false);
	c[CAP_VNDR + 1] = 0xe0;
	memset(c + CAP_HIDDEN, 0, 4);
	c[0xe0] = PCI_CAP_ID_EXP;
	c[0xe1] = 0;
	put16(c, 0xe2, 0x0001);			/* v1 endpoint */
	put16(c, 0xe0 + 0x12, 0x1011);
	memset(c + 0xf4, 0, 12);		/* DEV_REG's neighbours: nothing */
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, CAP_VNDR + 1, 1), 0xe0);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0xe0, 2), PCI_CAP_ID_EXP);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0xe0 + 0x12, 2), 0x1011);
	assert_int_equal(vfio_pci_cfg_policy(&pd, 0xe0 + 8), VFIO_CFG_PASS);
	/* The v1 endpoint capability ends at 0xe0 + 20: past it, the device's registers. */
	assert_int_equal(vfio_pci_cfg_policy(&pd, 0xe0 + 20), VFIO_CFG_RO);
	vfio_pci_dev_free(&pd);

	/* A v2 one there would run past 0x100: hidden, the rest of the list stays. */
	fake_init();
	c[CAP_VNDR + 1] = 0xe0;
	c[0xe0] = PCI_CAP_ID_EXP;
	c[0xe1] = 0;
	put16(c, 0xe2, 0x0002);
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, CAP_VNDR + 1, 1), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0xe0, 2), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, 0x34, 1), CAP_PM);
	vfio_pci_dev_free(&pd);
}

static void test_cap_write_policy(void **state)
{
	struct ctx *c = *state;
	const struct cfg_write_rec *w;

	assert_int_equal(vfio_pci_cfg_policy(&c->pd, CAP_PM + 4), VFIO_CFG_PASS);
	assert_int_equal(vfio_pci_cfg_policy(&c->pd, CAP_PM + 2), VFIO_CFG_RO);
	assert_int_equal(vfio_pci_cfg_policy(&c->pd, CAP_EXP + 0x10), VFIO_CFG_RO);
	assert_int_equal(vfio_pci_cfg_policy(&c->pd, 0x00), VFIO_CFG_EMUL);

	forget_device_writes();
	/* PM control/status: the device's. */
	wr(c, CAP_PM + 4, 2, 0x0003);
	w = dev_write_at(CAP_PM + 4);
	assert_non_null(w);
	assert_int_equal(w->len, 2);
	assert_int_equal(pci_get16(w->data, 0), 0x0003);
	/* PM capabilities: read-only. */
	wr(c, CAP_PM + 2, 2, 0xffff);
	assert_null(dev_write_at(CAP_PM + 2));
	assert_int_equal(rd(c, CAP_PM + 2, 2), 0x0003);
	/* Capability headers: ours, the chain cannot be rewritten. */
	wr(c, CAP_PM, 2, 0xffff);
	assert_int_equal(rd(c, CAP_PM, 2), CAP_MSI << 8 | PCI_CAP_ID_PM);
	/* PCIe device control: forwarded; link control: dropped. */
	wr(c, CAP_EXP + 8, 2, 0x2010);
	w = dev_write_at(CAP_EXP + 8);
	assert_non_null(w);
	assert_int_equal(pci_get16(w->data, 0), 0x2010);
	wr(c, CAP_EXP + 0x10, 2, 0x0010);	/* link disable */
	assert_null(dev_write_at(CAP_EXP + 0x10));
	assert_int_equal(pci_get16(fd_.cfg, CAP_EXP + 0x10), 0x0040);
	/* A dword over link control and status: nothing reaches the device. */
	wr(c, CAP_EXP + 0x10, 4, 0xffffffff);
	assert_int_equal(fd_.nr_cw, 2);
	/* Vendor capability body: forwarded; its length byte is not. */
	wr(c, CAP_VNDR + 4, 4, 0x11223344);
	assert_int_equal(pci_get32(fd_.cfg, CAP_VNDR + 4), 0x11223344);
	wr(c, CAP_VNDR + 2, 1, 0x40);
	assert_int_equal(fd_.cfg[CAP_VNDR + 2], 8);
	/* A hidden capability, extended space, device registers: dropped. */
	forget_device_writes();
	wr(c, CAP_HIDDEN, 4, 0xffffffff);
	wr(c, CAP_HIDDEN + 2, 2, 0);
	wr(c, 0x100, 4, 0xffffffff);
	wr(c, 0x144, 4, 0xffffffff);
	wr(c, DEV_REG, 4, 0);
	assert_int_equal(fd_.nr_cw, 0);
	assert_int_equal(pci_get32(fd_.cfg, 0x100), 0x14010010);
	assert_int_equal(pci_get16(fd_.cfg, CAP_HIDDEN + 2), 0x0306);
	assert_int_equal(rd(c, 0x100, 4), 0);
	assert_int_equal(rd(c, DEV_REG, 4), 0xdeadbeef);
}

static const struct irq_rec *last_irqs(void)
{
	return fd_.nr_irqs ? &fd_.irqs[fd_.nr_irqs - 1] : NULL;
}

static const struct update_rec *last_update_of(unsigned int vec)
{
	for (unsigned int i = nr_updates; i-- > 0;)
		if (updates[i].vec == vec)
			return &updates[i];
	return NULL;
}

static void test_msi(void **state)
{
	struct ctx *c = *state;
	const struct irq_rec *r;
	const struct update_rec *u;

	/* INTx is on from the start. */
	assert_int_equal(fd_.intx_trigger, 7);
	assert_int_equal(fd_.intx_resample, 8);

	wr(c, CAP_MSI + 4, 4, 0xfee01000);
	wr(c, CAP_MSI + 8, 4, 0);
	wr(c, CAP_MSI + 0xc, 2, 0x4041);
	assert_int_equal(fd_.nr_irqs, 0);
	assert_int_equal(nr_updates, 0);

	wr(c, CAP_MSI + 2, 2, 0x0001 | (2 << 4));	/* enable, 4 vectors */
	assert_int_equal(rd(c, CAP_MSI + 2, 2), 0x01a7);
	/* INTx off first: VFIO takes one interrupt type at a time. */
	assert_int_equal(fd_.intx_trigger, -1);
	r = last_irqs();
	assert_non_null(r);
	assert_int_equal(fd_.nr_irqs, 1);
	assert_int_equal(r->index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(r->count, 4);
	for (unsigned int v = 0; v < 4; v++) {
		assert_int_equal(r->fds[v], 100 + (int)v);
		u = last_update_of(v);
		assert_non_null(u);
		assert_int_equal(u->msg.addr, 0xfee01000);
		assert_int_equal(u->msg.data, 0x4040 | v);
		assert_false(u->masked);
	}
	assert_null(last_update_of(4));

	/* Masking vector 2 goes to the platform only; the device keeps its eventfd. */
	nr_updates = 0;
	wr(c, CAP_MSI + 0x10, 4, 0x4);
	assert_int_equal(nr_updates, 1);
	assert_int_equal(updates[0].vec, 2);
	assert_true(updates[0].masked);
	assert_int_equal(fd_.nr_irqs, 1);
	/* Pending: only masked vectors that fired. */
	pending[2] = true;
	pending[1] = true;
	assert_int_equal(rd(c, CAP_MSI + 0x14, 4), 0x4);
	/* Mask bits past the device's vectors cannot be set. */
	wr(c, CAP_MSI + 0x10, 4, 0xffffffff);
	assert_int_equal(rd(c, CAP_MSI + 0x10, 4), 0xff);

	/* A new address while enabled reaches the platform. */
	wr(c, CAP_MSI + 0x10, 4, 0);
	nr_updates = 0;
	wr(c, CAP_MSI + 4, 4, 0xfee02000);
	assert_int_equal(nr_updates, 4);
	assert_int_equal(updates[3].msg.addr, 0xfee02000);
	assert_int_equal(fd_.nr_irqs, 1);

	/* Disable: the device's MSI off, every vector masked, INTx back. */
	nr_updates = 0;
	wr(c, CAP_MSI + 2, 2, 0);
	r = last_irqs();
	assert_int_equal(r->index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(r->count, 0);
	assert_int_equal(nr_updates, 4);
	for (unsigned int v = 0; v < 4; v++)
		assert_true(last_update_of(v)->masked);
	assert_int_equal(fd_.intx_trigger, 7);
}

static void test_msi_clamped(void **state)
{
	struct ctx *c = *state;

	/* The guest asks for 32 vectors; the device has 8. */
	wr(c, CAP_MSI + 2, 2, 0x0001 | (5 << 4));
	assert_int_equal(last_irqs()->count, 8);
	/* A different count re-programs the device: off, then on. */
	wr(c, CAP_MSI + 2, 2, 0x0001 | (0 << 4));
	assert_int_equal(fd_.nr_irqs, 3);
	assert_int_equal(fd_.irqs[1].count, 0);
	assert_int_equal(fd_.irqs[2].count, 1);
	assert_true(last_update_of(7)->masked);
}

static void test_msix(void **state)
{
	struct ctx *c = *state;
	const struct irq_rec *r;
	const struct update_rec *u;

	wr(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	r = last_irqs();
	assert_non_null(r);
	assert_int_equal(r->index, VFIO_PCI_DEV_IRQ_MSIX);
	assert_int_equal(r->count, MSIX_VECS);
	for (unsigned int v = 0; v < MSIX_VECS; v++)
		assert_int_equal(r->fds[v], 100 + (int)v);
	assert_int_equal(fd_.intx_trigger, -1);
	/* The table size is read-only. */
	assert_int_equal(rd(c, CAP_MSIX + 2, 2) & 0x7ff, MSIX_VECS - 1);

	/* Program vector 3 through the trapped table page, unmask it. */
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16, 0xfee00000, 4);
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16 + 4, 0, 4);
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16 + 8, 0x4023, 4);
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16 + 12, 0, 4);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, TABLE_OFF + 3 * 16 + 8, 4), 0x4023);
	/* The table never reaches the device (the kernel programs the real one). */
	for (unsigned int i = 0; i < fd_.nr_ro; i++)
		assert_false(fd_.ro[i].region == 0 && fd_.ro[i].off >= TABLE_OFF &&
			     fd_.ro[i].off < TABLE_OFF + 0x100);
	assert_null(last_update_of(3));	/* still under the function mask */

	wr(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE);
	u = last_update_of(3);
	assert_non_null(u);
	assert_int_equal(u->msg.addr, 0xfee00000);
	assert_int_equal(u->msg.data, 0x4023);
	assert_false(u->masked);
	assert_null(last_update_of(4));
	assert_int_equal(fd_.nr_irqs, 1);	/* INTx off was a set_intx, not set_irqs */

	/* Per-vector mask: the platform hears it, the device is not re-programmed. */
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16 + 12, 1, 4);
	assert_true(last_update_of(3)->masked);
	pending[3] = true;
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, PBA_OFF, 8), 1ull << 3);
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 3 * 16 + 12, 0, 4);
	assert_false(last_update_of(3)->masked);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, PBA_OFF, 8), 0);
	assert_int_equal(fd_.nr_irqs, 1);

	/* MSI cannot take the device while MSI-X has it. */
	wr(c, CAP_MSI + 2, 2, 1);
	assert_int_equal(fd_.nr_irqs, 1);

	/* MSI-X off: the device's MSI-X off, and the MSI the guest asked for meanwhile on. */
	wr(c, CAP_MSIX + 2, 2, 0);
	assert_int_equal(fd_.nr_irqs, 3);
	assert_int_equal(fd_.irqs[1].index, VFIO_PCI_DEV_IRQ_MSIX);
	assert_int_equal(fd_.irqs[1].count, 0);
	assert_int_equal(fd_.irqs[2].index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(fd_.irqs[2].count, 1);
	assert_int_equal(fd_.intx_trigger, -1);

	/* Both off: INTx back. */
	wr(c, CAP_MSI + 2, 2, 0);
	r = last_irqs();
	assert_int_equal(r->index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(r->count, 0);
	assert_true(last_update_of(3)->masked);
	assert_int_equal(fd_.intx_trigger, 7);
}

/* The device refuses the vectors: INTx stays, and the guest is not retried on every write. */
static void test_irqs_refused(void **state)
{
	struct ctx *c = *state;

	fd_.irqs_error = -EINVAL;
	fd_.intx_calls = 0;
	wr(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE);
	assert_int_equal(fd_.nr_irqs, 1);
	assert_int_equal(fd_.intx_trigger, 7);
	wr(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	wr(c, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(fd_.nr_irqs, 1);
	/* Off and on again: one more try, which now works. */
	fd_.irqs_error = 0;
	wr(c, CAP_MSIX + 2, 2, 0);
	assert_int_equal(fd_.nr_irqs, 1);
	assert_int_equal(fd_.intx_trigger, 7);
	wr(c, CAP_MSIX + 2, 2, MSIX_CTRL_ENABLE);
	assert_int_equal(fd_.nr_irqs, 2);
	assert_int_equal(last_irqs()->index, VFIO_PCI_DEV_IRQ_MSIX);
	assert_int_equal(last_irqs()->count, MSIX_VECS);
	assert_int_equal(fd_.intx_trigger, -1);

	/* The same for MSI. */
	wr(c, CAP_MSIX + 2, 2, 0);
	fd_.irqs_error = -EINVAL;
	wr(c, CAP_MSI + 2, 2, 1);
	assert_int_equal(fd_.intx_trigger, 7);
	wr(c, CAP_MSI + 4, 4, 0xfee00000);
	assert_int_equal(fd_.nr_irqs, 4);
}

static void test_msix_page_forward(void **state)
{
	struct ctx *c = *state;
	uint64_t v;

	/* In the trapped table page, past the table: the device's registers. */
	fd_.nr_ro = 0;
	v = vfio_pci_bar_read(&c->pd, 0, 0x2800, 4);
	assert_int_equal(fd_.nr_ro, 1);
	assert_int_equal(fd_.ro[0].region, 0);
	assert_int_equal(fd_.ro[0].off, 0x2800);
	assert_int_equal(v, pci_get32(fd_.bar0, 0x2800));
	vfio_pci_bar_write(&c->pd, 0, 0x2804, 0xa1b2c3d4, 4);
	assert_int_equal(pci_get32(fd_.bar0, 0x2804), 0xa1b2c3d4);
	vfio_pci_bar_write(&c->pd, 0, 0x2808, 0x99, 1);
	assert_int_equal(fd_.bar0[0x2808], 0x99);
	/* Past the PBA (16 vectors: 8 bytes), in its page. */
	v = vfio_pci_bar_read(&c->pd, 0, PBA_OFF + 8, 2);
	assert_int_equal(v, pci_get16(fd_.bar0, PBA_OFF + 8));
	/* A qword read is split for the region. */
	v = vfio_pci_bar_read(&c->pd, 0, 0x2ff0, 8);
	assert_int_equal(v, pci_get32(fd_.bar0, 0x2ff0) |
			 (uint64_t)pci_get32(fd_.bar0, 0x2ff4) << 32);
	/* The PBA is read-only. */
	fd_.nr_ro = 0;
	vfio_pci_bar_write(&c->pd, 0, PBA_OFF, ~0ull, 8);
	assert_int_equal(fd_.nr_ro, 0);
	/* Straddling the table's end: neither the table nor the device. */
	v = vfio_pci_bar_read(&c->pd, 0, TABLE_OFF + 0xfc, 8);
	assert_int_equal(v, ~0ull);
	vfio_pci_bar_write(&c->pd, 0, TABLE_OFF + 0xfc, 0, 8);
	assert_int_equal(fd_.nr_ro, 0);
	/* An I/O BAR: forwarded. */
	assert_int_equal(vfio_pci_bar_read(&c->pd, 2, 0x10, 1), 0x90);
	vfio_pci_bar_write(&c->pd, 2, 0x11, 0x5a5a, 2);
	assert_int_equal(pci_get16(fd_.bar2, 0x11), 0x5a5a);
	/* Past the device's 2 KiB BAR3 but inside the guest's page: ones, no access. */
	fd_.nr_ro = 0;
	assert_int_equal(vfio_pci_bar_read(&c->pd, 3, 0x900, 4), 0xffffffff);
	vfio_pci_bar_write(&c->pd, 3, 0x900, 0, 4);
	assert_int_equal(fd_.nr_ro, 0);
}

static void test_intx(void **state)
{
	struct ctx *c = *state;
	const struct cfg_write_rec *w;

	(void)c;
	assert_int_equal(fd_.intx_calls, 1);
	assert_int_equal(fd_.intx_trigger, 7);
	assert_int_equal(fd_.intx_resample, 8);
	/* The guest's INTx disable bit reaches the device. */
	wr(c, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);
	w = dev_write_at(0x04);
	assert_true(pci_get16(w->data, 0) & PCI_COMMAND_INTX_DISABLE);
	vfio_pci_dev_free(&c->pd);
	assert_int_equal(fd_.intx_trigger, -1);
	/* Without INTx from the platform, the device's INTx is left alone. */
	{
		struct vfio_pci_platform p = plat;
		char err[256];

		p.intx_fds = NULL;
		fake_init();
		assert_int_equal(vfio_pci_dev_init(&c->pd, &c->f, &fake_ops, &fd_, &p, NULL, err,
						   sizeof(err)), 0);
		assert_int_equal(fd_.intx_calls, 0);
	}
}

static void test_reset(void **state)
{
	struct ctx *c = *state;

	wr(c, 0x1c, 4, 0xd0000000);
	wr(c, CAP_MSI + 2, 2, 1);
	assert_int_equal(last_irqs()->index, VFIO_PCI_DEV_IRQ_MSI);
	fd_.resets = 0;
	nr_maps = 0;
	assert_int_equal(vfio_pci_dev_reset(&c->pd), 0);
	assert_int_equal(fd_.resets, 1);
	assert_int_equal(last_irqs()->count, 0);
	assert_int_equal(rd(c, CAP_MSI + 2, 2) & 1, 0);
	assert_true(last_update_of(0)->masked);
	assert_int_equal(fd_.intx_trigger, 7);
	/* BAR3 back where the plan put it, and the memslot with it. */
	assert_int_equal(rd(c, 0x1c, 4), 0xc0010008);
	assert_true(nr_maps >= 2);
	assert_int_equal(maps[nr_maps - 1].bar, 3);
	assert_int_equal(maps[nr_maps - 1].addr, 0xc0010000);
	assert_true(maps[nr_maps - 1].on);
	/* MSI works again after reset. */
	wr(c, CAP_MSI + 2, 2, 1);
	assert_int_equal(last_irqs()->index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(last_irqs()->count, 1);
}

static void test_init_errors(void **state)
{
	struct vfio_pci_dev pd;
	struct pci_func f;
	char err[256];

	(void)state;
	/* The plan thinks BAR0 is 32-bit. */
	fake_init();
	make_func(&f, false);
	f.bars[0].type = PCI_BAR_MEM32;
	err[0] = 0;
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "BAR0"));
	assert_non_null(strstr(err, "nic0"));

	/* The device's region is larger than the plan's BAR. */
	fake_init();
	make_func(&f, false);
	fd_.bar0_region = 0x8000;
	err[0] = 0;
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "BAR0"));

	/* An MSI-X table that does not fit its BAR. */
	fake_init();
	make_func(&f, false);
	put32(fd_.cfg, CAP_MSIX + 4, 0x3f80);
	err[0] = 0;
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "MSI-X"));

	/* A device that does not answer. */
	fake_init();
	put16(fd_.cfg, 0, 0xffff);
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), -ENODEV);
}

/* A capability chain that loops or points past config space must not hang or crash. */
static void test_broken_chain(void **state)
{
	struct vfio_pci_dev pd;
	struct pci_func f;
	char err[256];

	(void)state;
	fake_init();
	make_func(&f, false);
	fd_.cfg[CAP_VNDR + 1] = CAP_PM;		/* loop */
	fd_.cfg[CAP_VNDR + 2] = 0xff;		/* and a vendor cap running past 0x100 */
	assert_int_equal(vfio_pci_dev_init(&pd, &f, &fake_ops, &fd_, &plat, NULL, err,
					   sizeof(err)), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, CAP_VNDR, 1), 0);
	assert_int_equal(vfio_pci_cfg_read(&pd, CAP_EXP + 1, 1), 0);
	vfio_pci_dev_free(&pd);
}

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 1;
}

static void test_hostile(void **state)
{
	static const unsigned int lens[] = { 0, 1, 2, 3, 4, 5, 8, 0xffffffffu };
	struct ctx *c = *state;

	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned int len = lens[i];

		if (len != 1 && len != 2 && len != 4)
			assert_int_equal(rd(c, 0x00, len), 0xffffffff);
		wr(c, 0x00, len, 0);
		wr(c, 0xffe, len, 0xffffffff);
		wr(c, 0xfff, len, 0xffffffff);
		wr(c, 0x1000, len, 0xffffffff);
		wr(c, 0xfffffffe, len, 0xffffffff);
		rd(c, 0xffe, len);
		rd(c, 0xfffffffe, len);
	}
	assert_int_equal(rd(c, 0x1000, 4), 0xffffffff);
	assert_int_equal(rd(c, 0xffe, 4), 0xffffffff);
	assert_int_equal(rd(c, 0xffc, 4), 0);

	/* BAR traps with wild offsets and sizes. */
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, ~0ull - 2, 4), 0xffffffff);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, BAR0_SIZE, 1), 0xff);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 1, 0, 4), 0xffffffff);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 6, 0, 4), 0xffffffff);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0xffffffff, 0, 4), 0xffffffff);
	assert_int_equal(vfio_pci_bar_read(&c->pd, 0, 0, 3), ~0ull);
	vfio_pci_bar_write(&c->pd, 0, ~0ull - 2, 0, 8);
	vfio_pci_bar_write(&c->pd, 0, 0, 0, 16);
	vfio_pci_bar_write(&c->pd, 7, 0, 0, 4);

	/* Random writes everywhere: ids and BAR type bits survive. */
	for (unsigned int i = 0; i < 20000; i++) {
		unsigned int reg = rng() % 0x1100, len = 1u << (rng() % 3);

		wr(c, reg, len, rng());
		if (i % 7 == 0)
			vfio_pci_bar_write(&c->pd, rng() % 8, rng() % 0x5000, rng(), len);
		if (i % 5 == 0)
			rd(c, rng() % 0x1100, len);
	}
	assert_int_equal(rd(c, 0x00, 4), FAKE_DEVICE << 16 | FAKE_VENDOR);
	assert_int_equal(rd(c, 0x10, 4) & 0xf, 0x4);
	assert_int_equal(rd(c, 0x18, 4) & 0x3, 0x1);
	assert_int_equal(rd(c, 0x1c, 4) & 0xf, 0x8);
	assert_int_equal(rd(c, 0x34, 1), CAP_PM);
	assert_int_equal(rd(c, 0x100, 4), 0);
	assert_int_equal(pci_get32(fd_.cfg, 0x100), 0x14010010);
	assert_int_equal(pci_get16(fd_.cfg, 0x00), FAKE_VENDOR);
	/* The guest never turns the device's decode off. */
	assert_int_equal(pci_get16(fd_.cfg, 0x04) & 3, 3);
}

/* ---- the fixture host's devices (tests/fixtures/host) ---- */

#define FIXTURE_SYS	SRCDIR "/tests/fixtures/host/sys"
#define FIXTURE_DEV	SRCDIR "/tests/fixtures/host/dev"
#define HOST_MACHINE	"[machine]\nmemory = 1G\nphys-bits = 46\nkernel = /boot/vmlinuz\n"

#define RES_ROM		VFIO_PCI_DEV_ROM_REGION	/* resource line 6 */
#define RES_IO		0x100		/* IORESOURCE_IO in the resource file's flags */
#define RES_MEM_64	0x100000	/* IORESOURCE_MEM_64 */
#define GUEST_PAGE	0x1000		/* memory BARs are mapped: at least a page in the guest */
#define ECAP_ARI	0x0e
#define ECAP_SRIOV	0x10
#define ECAP_REBAR	0x15
#define MAX_CAPS	48		/* dword slots 0x40-0xfc */
#define MAX_ECAPS	((4096 - 0x100) / 4)

/* A function of the fixture host as its sysfs files have it. */
struct host_fx {
	uint8_t cfg[4096];		/* the config file; zeros past its end */
	size_t cfg_len;
	uint64_t size[RES_ROM + 1];	/* resource lines 0-6 (BAR0-5, ROM); 0 = none */
	uint64_t flags[RES_ROM + 1];
};

struct host_ctx {
	struct ctx c;			/* c.f: the plan's function for the device */
	struct host_fx h;
	struct vm_config cfg;
	struct vm_plan plan;
};

struct cap_at {
	unsigned int off, id;
};

static void load_host_fx(const char *bdf, struct host_fx *h)
{
	char path[512];
	FILE *f;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), FIXTURE_SYS "/bus/pci/devices/%s/config", bdf);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	h->cfg_len = fread(h->cfg, 1, sizeof(h->cfg), f);
	fclose(f);
	assert_true(h->cfg_len == 256 || h->cfg_len == 4096);

	snprintf(path, sizeof(path), FIXTURE_SYS "/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	for (unsigned int i = 0; i <= RES_ROM; i++) {
		unsigned long long start, end, flags;

		assert_int_equal(fscanf(f, "%llx %llx %llx", &start, &end, &flags), 3);
		h->size[i] = flags ? end - start + 1 : 0;
		h->flags[i] = flags;
	}
	fclose(f);
}

static uint32_t fx_get(void *src, unsigned int reg, unsigned int len)
{
	const struct host_fx *h = src;
	uint32_t v = 0;

	assert_true(reg + len <= sizeof(h->cfg));
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)h->cfg[reg + i] << (8 * i);
	return v;
}

static uint32_t guest_get(void *src, unsigned int reg, unsigned int len)
{
	return rd(src, reg, len);
}

/* The standard capability list from 0x34, as get reads it; a loop fails. */
static unsigned int walk_caps(uint32_t (*get)(void *, unsigned int, unsigned int), void *src,
			      struct cap_at *out)
{
	unsigned int n = 0;

	if (!(get(src, 0x06, 2) & 0x10))
		return 0;
	for (unsigned int at = get(src, 0x34, 1) & ~3u; at >= 0x40;
	     at = get(src, at + 1, 1) & ~3u) {
		assert_true(n < MAX_CAPS);
		out[n++] = (struct cap_at){ at, get(src, at, 1) };
	}
	return n;
}

/* The extended capability list from 0x100; a loop fails. */
static unsigned int walk_ecaps(uint32_t (*get)(void *, unsigned int, unsigned int), void *src,
			       struct cap_at *out)
{
	unsigned int n = 0, at = 0x100;

	while (at >= 0x100) {
		uint32_t hdr = get(src, at, 4);

		if (!hdr || hdr == 0xffffffff)
			break;
		assert_true(n < MAX_ECAPS);
		out[n++] = (struct cap_at){ at, hdr & 0xffff };
		at = (hdr >> 20) & ~3u;
	}
	return n;
}

/* Where the fixture has capability id (extended: ecap), or 0. */
static unsigned int fx_cap(struct host_fx *h, unsigned int id, bool ecap)
{
	struct cap_at l[MAX_ECAPS];
	unsigned int n = ecap ? walk_ecaps(fx_get, h, l) : walk_caps(fx_get, h, l);

	for (unsigned int i = 0; i < n; i++)
		if (l[i].id == id)
			return l[i].off;
	return 0;
}

static bool cap_kept(unsigned int id)
{
	return id == PCI_CAP_ID_PM || id == PCI_CAP_ID_MSI || id == PCI_CAP_ID_MSIX ||
	       id == PCI_CAP_ID_EXP || id == PCI_CAP_ID_VNDR;
}

static bool ecap_hidden(unsigned int id)
{
	return id == ECAP_SRIOV || id == ECAP_ARI || id == ECAP_REBAR;
}

/* A machine passing fixture host functions through, planned from the inventory. */
static struct host_ctx *host_open(const char *ini)
{
	struct host_ctx *x = calloc(1, sizeof(*x));
	struct host_inventory *inv = host_inventory_open(FIXTURE_SYS, FIXTURE_DEV);
	FILE *f = fmemopen((void *)ini, strlen(ini), "r");
	char err[512] = "";

	assert_non_null(x);
	assert_non_null(inv);
	assert_non_null(f);
	if (config_load_stream(f, "host.ini", &x->cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	fclose(f);
	if (plan_build(&x->cfg, inv, &x->plan, err, sizeof(err)))
		fail_msg("plan: %s", err);
	host_inventory_close(inv);
	return x;
}

static void host_close(struct host_ctx *x)
{
	plan_free(&x->plan);
	config_free(&x->cfg);
	free(x);
}

/* The plan's device dev on the fake, backed by the fixture's function bdf. */
static void host_attach(struct host_ctx *x, int dev, const char *bdf)
{
	const struct pci_func *f = plan_device_func(&x->plan, dev);
	uint64_t rom;
	char err[256] = "";

	assert_non_null(f);
	load_host_fx(bdf, &x->h);
	fake_init();
	fd_.fixture = true;
	memcpy(fd_.cfg, x->h.cfg, sizeof(fd_.cfg));
	memcpy(fd_.fixture_size, x->h.size, sizeof(fd_.fixture_size));
	rom = x->h.size[RES_ROM];
	if (rom) {
		fd_.fixture_rom = malloc(rom);
		assert_non_null(fd_.fixture_rom);
		for (uint64_t i = 0; i < rom; i++)
			fd_.fixture_rom[i] = (uint8_t)(i * 31 + (i >> 12));
		fd_.fixture_rom[0] = 0x55;
		fd_.fixture_rom[1] = 0xaa;
	}
	x->c.f = *f;
	if (vfio_pci_dev_init(&x->c.pd, &x->c.f, &fake_ops, &fd_, &plat, NULL, err, sizeof(err)))
		fail_msg("%s: init: %s", bdf, err);
}

static void host_detach(struct host_ctx *x)
{
	vfio_pci_dev_free(&x->c.pd);
	free(fd_.fixture_rom);
	fd_.fixture_rom = NULL;
	fd_.fixture = false;
}

static void check_host_header(struct host_ctx *x)
{
	struct ctx *c = &x->c;
	const uint8_t *cfg = x->h.cfg;

	assert_int_equal(rd(c, 0x00, 4), pci_get32(cfg, 0x00));
	assert_int_equal(rd(c, 0x08, 4), pci_get32(cfg, 0x08));	/* revision, class */
	assert_int_equal(rd(c, 0x2c, 4), pci_get32(cfg, 0x2c));	/* subsystem */
	assert_int_equal(rd(c, 0x0e, 1) & 0x7f, cfg[0x0e] & 0x7f);
	assert_int_equal(rd(c, 0x3d, 1), cfg[0x3d]);
	/* A function with a pin has INTx on the device from the start. */
	assert_int_equal(fd_.intx_trigger, cfg[0x3d] ? 7 : -1);
}

/* The guest's list is the fixture's, less what is not kept; kept bodies read through. */
static void check_host_caps(struct host_ctx *x)
{
	struct cap_at dev[MAX_CAPS], guest[MAX_CAPS], want[MAX_CAPS];
	struct ctx *c = &x->c;
	const uint8_t *cfg = x->h.cfg;
	unsigned int nd = walk_caps(fx_get, &x->h, dev), ng, nw = 0;

	for (unsigned int i = 0; i < nd; i++) {
		if (cap_kept(dev[i].id)) {
			want[nw++] = dev[i];
			continue;
		}
		/* Hidden: its header reads 0 and nothing of it reaches the device. */
		assert_int_equal(rd(c, dev[i].off, 2), 0);
		forget_device_writes();
		wr(c, dev[i].off, 4, 0xffffffff);
		wr(c, dev[i].off + 4, 4, 0xffffffff);
		assert_int_equal(fd_.nr_cw, 0);
	}
	ng = walk_caps(guest_get, c, guest);
	assert_int_equal(ng, nw);
	for (unsigned int i = 0; i < ng; i++) {
		assert_int_equal(guest[i].off, want[i].off);
		assert_int_equal(guest[i].id, want[i].id);
	}
	assert_int_equal(rd(c, 0x06, 2) & 0x10, nw ? 0x10 : 0);

	for (unsigned int i = 0; i < nw; i++) {
		unsigned int at = want[i].off;

		switch (want[i].id) {
		case PCI_CAP_ID_PM:
			assert_int_equal(rd(c, at + 2, 2), pci_get16(cfg, at + 2));
			assert_int_equal(rd(c, at + 4, 2), pci_get16(cfg, at + 4));
			break;
		case PCI_CAP_ID_EXP:
			assert_int_equal(rd(c, at + 2, 2), pci_get16(cfg, at + 2));
			assert_int_equal(rd(c, at + 0x04, 4), pci_get32(cfg, at + 0x04));
			assert_int_equal(rd(c, at + 0x0c, 4), pci_get32(cfg, at + 0x0c));
			assert_int_equal(rd(c, at + 0x12, 2), pci_get16(cfg, at + 0x12));
			if ((cfg[at + 2] & 0xf) >= 2)
				assert_int_equal(rd(c, at + 0x24, 4), pci_get32(cfg, at + 0x24));
			break;
		case PCI_CAP_ID_VNDR:
			for (unsigned int k = 2; k < cfg[at + 2]; k++)
				assert_int_equal(rd(c, at + k, 1), cfg[at + k]);
			break;
		}
	}
}

/* No SR-IOV, ARI or ReBAR in the guest's extended list; their registers stay the host's. */
static void check_host_ecaps(struct host_ctx *x)
{
	struct cap_at dev[MAX_ECAPS], guest[MAX_ECAPS];
	struct ctx *c = &x->c;
	unsigned int nd = walk_ecaps(fx_get, &x->h, dev);
	unsigned int ng = walk_ecaps(guest_get, c, guest);

	for (unsigned int i = 0; i < ng; i++)
		assert_false(ecap_hidden(guest[i].id));
	for (unsigned int i = 0; i < nd; i++) {
		unsigned int at = dev[i].off;

		if (!ecap_hidden(dev[i].id))
			continue;
		assert_int_equal(rd(c, at, 4), 0);
		forget_device_writes();
		for (unsigned int k = 4; k < 0x10; k += 4)
			wr(c, at + k, 4, 0xffffffff);
		assert_int_equal(fd_.nr_cw, 0);
		assert_memory_equal(fd_.cfg + at, x->h.cfg + at, 0x10);
	}
}

static void check_host_msi(struct host_ctx *x)
{
	struct ctx *c = &x->c;
	unsigned int at = fx_cap(&x->h, PCI_CAP_ID_MSI, false);
	uint16_t ctrl;
	unsigned int mmc, data;

	if (!at)
		return;
	ctrl = pci_get16(x->h.cfg, at + 2);
	mmc = (ctrl >> 1) & 7;
	data = ctrl & 0x0080 ? 0x0c : 0x08;		/* after the upper address when 64-bit */
	/* Capable bits from the device; off, one vector, no message. */
	assert_int_equal(rd(c, at + 2, 2), ctrl & ~0x0071);
	assert_int_equal(rd(c, at + 4, 4), 0);
	wr(c, at + 4, 4, 0xfee00000);
	wr(c, at + data, 2, 0x4020);
	/* Every vector the device has. */
	wr(c, at + 2, 2, mmc << 4 | 1);
	assert_non_null(last_irqs());
	assert_int_equal(last_irqs()->index, VFIO_PCI_DEV_IRQ_MSI);
	assert_int_equal(last_irqs()->count, 1u << mmc);
	assert_int_equal(fd_.intx_trigger, -1);
	assert_non_null(last_update_of(0));
	assert_int_equal(last_update_of(0)->msg.addr, 0xfee00000);
	assert_int_equal(last_update_of(0)->msg.data, 0x4020);
	wr(c, at + 2, 2, 0);
	assert_int_equal(last_irqs()->count, 0);
	assert_int_equal(fd_.intx_trigger, x->h.cfg[0x3d] ? 7 : -1);
}

static void check_host_msix(struct host_ctx *x)
{
	struct ctx *c = &x->c;
	unsigned int at = fx_cap(&x->h, PCI_CAP_ID_MSIX, false);
	uint32_t table, pba;
	unsigned int nr;

	if (!at)
		return;
	nr = (pci_get16(x->h.cfg, at + 2) & 0x7ff) + 1;
	table = pci_get32(x->h.cfg, at + 4);
	pba = pci_get32(x->h.cfg, at + 8);
	assert_int_equal(rd(c, at + 2, 2), nr - 1);
	assert_int_equal(rd(c, at + 4, 4), table);
	assert_int_equal(rd(c, at + 8, 4), pba);
	/* The table and PBA, in the BAR the fixture names, are the emulation's. */
	fd_.nr_ro = 0;
	assert_int_equal(vfio_pci_bar_read(&c->pd, table & 7, (table & ~7u) + (nr - 1) * 16 + 12,
					   4), 1);
	assert_int_equal(vfio_pci_bar_read(&c->pd, pba & 7, pba & ~7u, 4), 0);
	assert_int_equal(fd_.nr_ro, 0);

	wr(c, at + 2, 2, MSIX_CTRL_ENABLE);
	assert_non_null(last_irqs());
	assert_int_equal(last_irqs()->index, VFIO_PCI_DEV_IRQ_MSIX);
	assert_int_equal(last_irqs()->count, nr);
	wr(c, at + 2, 2, 0);
	assert_int_equal(last_irqs()->count, 0);
}

/* Sizing: each BAR reads back the fixture's size; memory BARs get a page at least. */
static void check_host_bars(struct host_ctx *x)
{
	struct ctx *c = &x->c;
	const struct host_fx *h = &x->h;
	uint32_t want[PCI_NR_BARS] = { 0 };
	const uint8_t *rom;
	uint64_t size;

	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		uint32_t reg = pci_get32(h->cfg, 0x10 + 4 * i);
		uint64_t mask;

		size = h->size[i];
		if (!size)
			continue;
		if (h->flags[i] & RES_IO) {
			assert_int_equal(reg & 1, 1);
			want[i] = (uint32_t)~(size - 1) | 1;
			continue;
		}
		assert_int_equal(reg & 1, 0);
		if (size < GUEST_PAGE)
			size = GUEST_PAGE;
		mask = ~(size - 1);
		want[i] = (uint32_t)mask | (reg & 0xf);
		if (h->flags[i] & RES_MEM_64) {
			assert_int_equal(reg & 6, 4);
			assert_true(i + 1 < PCI_NR_BARS);
			assert_int_equal(h->size[i + 1], 0);
			want[++i] = (uint32_t)(mask >> 32);
		}
	}
	wr(c, 0x04, 2, 0);
	forget_device_writes();
	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		wr(c, 0x10 + 4 * i, 4, 0xffffffff);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++)
		assert_int_equal(rd(c, 0x10 + 4 * i, 4), want[i]);
	assert_int_equal(fd_.nr_cw, 0);

	/* The ROM BAR, sized as Linux does; its image is the device's ROM region. */
	wr(c, 0x30, 4, 0xfffff800);
	size = h->size[RES_ROM];
	if (!size) {
		assert_int_equal(rd(c, 0x30, 4), 0);
		assert_null(vfio_pci_rom(&c->pd, &size));
		return;
	}
	if (size < GUEST_PAGE)
		size = GUEST_PAGE;
	assert_int_equal(rd(c, 0x30, 4), (uint32_t)~(size - 1) & 0xfffff800);
	rom = vfio_pci_rom(&c->pd, &size);
	assert_non_null(rom);
	assert_true(size >= h->size[RES_ROM]);
	assert_memory_equal(rom, fd_.fixture_rom, h->size[RES_ROM]);
}

static void check_host_device(struct host_ctx *x)
{
	check_host_header(x);
	check_host_caps(x);
	check_host_ecaps(x);
	check_host_msi(x);
	check_host_msix(x);
	check_host_bars(x);
}

/* The A10 and its audio function, both passed through in one slot. */
static void test_host_gpu(void **state)
{
	struct host_ctx *x = host_open(HOST_MACHINE
		"[device \"gpu\"]\ntype = vfio\nhost = 0000:01:00.0\nslot = 4\n"
		"[device \"audio\"]\ntype = vfio\nhost = 0000:01:00.1\nslot = 4\nfunction = 1\n");

	(void)state;
	host_attach(x, 0, "0000:01:00.0");
	/* What the checks below hide or size is there. */
	assert_true(fx_cap(&x->h, ECAP_REBAR, true));
	assert_true(fx_cap(&x->h, PCI_CAP_ID_VNDR, false));
	assert_true(x->h.size[RES_ROM]);
	assert_true(x->h.flags[1] & RES_MEM_64);
	assert_true(fx_cap(&x->h, PCI_CAP_ID_MSIX, false));
	check_host_device(x);
	/* Function 0 of a slot with two: multifunction, as on the host. */
	assert_int_equal(rd(&x->c, 0x0e, 1), x->h.cfg[0x0e]);
	host_detach(x);

	host_attach(x, 1, "0000:01:00.1");
	assert_false(fx_cap(&x->h, PCI_CAP_ID_MSIX, false));
	assert_true(fx_cap(&x->h, PCI_CAP_ID_MSI, false));
	check_host_device(x);
	host_detach(x);
	host_close(x);
}

/* An H100: a 64 GiB BAR. */
static void test_host_h100(void **state)
{
	struct host_ctx *x = host_open(HOST_MACHINE
		"[device \"gpu\"]\ntype = vfio\nhost = 0000:41:00.0\n");

	(void)state;
	host_attach(x, 0, "0000:41:00.0");
	assert_true(x->h.size[1] > 0x100000000ull);
	check_host_device(x);
	host_detach(x);
	host_close(x);
}

/* The X710: SR-IOV and ARI hidden, the VF BARs' host addresses with them; VPD out. */
static void test_host_x710(void **state)
{
	struct host_ctx *x = host_open(HOST_MACHINE
		"[device \"nic\"]\ntype = vfio\nhost = 0000:02:00.0\n");
	unsigned int sriov;

	(void)state;
	host_attach(x, 0, "0000:02:00.0");
	sriov = fx_cap(&x->h, ECAP_SRIOV, true);
	assert_true(sriov);
	assert_true(fx_cap(&x->h, ECAP_ARI, true));
	assert_true(fx_cap(&x->h, 0x03, false));		/* VPD */
	assert_true(x->h.size[RES_ROM]);
	/* VF BAR0 holds a host address. */
	assert_int_not_equal(pci_get32(x->h.cfg, sriov + 0x24), 0);
	assert_int_equal(rd(&x->c, sriov + 0x24, 4), 0);
	check_host_device(x);
	host_detach(x);
	host_close(x);
}

/* The PM983: MSI-X table and PBA in BAR0 among the controller's registers. */
static void test_host_nvme(void **state)
{
	struct host_ctx *x = host_open(HOST_MACHINE
		"[device \"nvme\"]\ntype = vfio\nhost = 0000:03:00.0\n");
	unsigned int msix;

	(void)state;
	host_attach(x, 0, "0000:03:00.0");
	msix = fx_cap(&x->h, PCI_CAP_ID_MSIX, false);
	assert_true(msix);
	assert_int_equal(pci_get32(x->h.cfg, msix + 4) & 7, 0);
	assert_false(x->h.size[RES_ROM]);
	/* The controller's registers, outside the table: the device's. */
	fd_.nr_ro = 0;
	vfio_pci_bar_read(&x->c.pd, 0, 0, 4);
	assert_int_equal(fd_.nr_ro, 1);
	assert_int_equal(fd_.ro[0].region, 0);
	assert_int_equal(fd_.ro[0].off, 0);
	check_host_device(x);
	host_detach(x);
	host_close(x);
}

/* The RTL8139: conventional PCI, 256 bytes of config, INTx only, a 256-byte memory BAR. */
static void test_host_rtl8139(void **state)
{
	struct host_ctx *x = host_open(HOST_MACHINE
		"[device \"nic\"]\ntype = vfio\nhost = 0000:04:00.0\n");

	(void)state;
	host_attach(x, 0, "0000:04:00.0");
	assert_int_equal(x->h.cfg_len, 256);
	assert_false(fx_cap(&x->h, PCI_CAP_ID_MSI, false));
	assert_false(fx_cap(&x->h, PCI_CAP_ID_MSIX, false));
	assert_false(fx_cap(&x->h, PCI_CAP_ID_EXP, false));
	assert_true(x->h.flags[0] & RES_IO);
	assert_true(x->h.size[1] < GUEST_PAGE);
	assert_int_equal(rd(&x->c, 0x100, 4), 0);
	/* The I/O BAR is trapped and forwarded. */
	fd_.nr_ro = 0;
	vfio_pci_bar_read(&x->c.pd, 0, 0x10, 1);
	assert_int_equal(fd_.nr_ro, 1);
	assert_int_equal(fd_.ro[0].region, 0);
	assert_int_equal(fd_.ro[0].off, 0x10);
	check_host_device(x);
	host_detach(x);
	host_close(x);
}

/* The rest of the fixture's endpoints, each passed through alone, through the same checks. */
static void test_host_others(void **state)
{
	static const char *const bdfs[] = {
		"0000:05:00.0",		/* I350: SR-IOV, ARI, VPD, an I/O BAR between memory BARs */
		"0000:06:00.0",		/* GTX 1050 Ti: an I/O BAR5 after two 64-bit BARs, a ROM */
		"0000:08:00.0",		/* FPGA: the MSI-X table mid-page among registers */
		"0000:09:00.0",		/* I210 */
	};
	char ini[512];

	(void)state;
	for (unsigned int i = 0; i < sizeof(bdfs) / sizeof(bdfs[0]); i++) {
		struct host_ctx *x;

		snprintf(ini, sizeof(ini), HOST_MACHINE "[device \"d\"]\ntype = vfio\nhost = %s\n",
			 bdfs[i]);
		x = host_open(ini);
		host_attach(x, 0, bdfs[i]);
		check_host_device(x);
		host_detach(x);
		host_close(x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_from_device, setup_rom, teardown),
		cmocka_unit_test_setup_teardown(test_rom_absent, setup, teardown),
		cmocka_unit_test(test_rom_from_file),
		cmocka_unit_test_setup_teardown(test_cap_chain, setup, teardown),
		cmocka_unit_test(test_no_caps),
		cmocka_unit_test(test_pcie_v1_high),
		cmocka_unit_test_setup_teardown(test_cap_write_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqs_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_page_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_broken_chain),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test(test_host_gpu),
		cmocka_unit_test(test_host_h100),
		cmocka_unit_test(test_host_x710),
		cmocka_unit_test(test_host_nvme),
		cmocka_unit_test(test_host_rtl8139),
		cmocka_unit_test(test_host_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
